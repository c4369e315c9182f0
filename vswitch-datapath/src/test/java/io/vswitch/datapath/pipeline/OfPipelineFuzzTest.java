package io.vswitch.datapath.pipeline;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The dataplane's table parser takes text from another process: mutated and random tables must be
 * accepted or refused with IllegalArgumentException (which the IPC server turns into an error
 * reply), never fail any other way.
 */
class OfPipelineFuzzTest {
    private static final String VALID = String.join("\n",
            "0 a 1 1 7/ff c0ffee ; c:ffff:800 d:ff000000:a000000 ; meter:1 push_vlan:8100 set_vlan_vid:5 controller:ffff w/output:2 w/group:4",
            "1 1 - - - ; 13:ffff000000000000:50000000000000 ; clear_actions dec_ttl set_ipv4_dst:c0000209 output:3 group:5",
            "2 1 - - - ; c:ffff:86dd ; set_ipv6_src_hi:20010db8 set_ipv6_src_lo:1 set_icmp_type:81 set_ip_ecn:1 set_tun_id:2a w/set_ipv6_label:3 w/set_arp_op:2 output:1",
            "g 4 select ; 1 1 output:2 ; 0 5 output:3 ; 1 2 set_eth_dst:20000000b output:1",
            "g 5 all ; 1 0 output:1 ; 1 0 push_vlan:88a8 output:2",
            "m 1 kbps ; drop 3e8 64 ; dscp_remark 1f4 0 1",
            "p 2 21");
    private static final String ALPHABET = "0123456789abcdefgmpw/:; -\nxyz_.";

    @Test
    void mutatedTablesAreAcceptedOrRefusedWithTheReason() {
        OfPipeline.parse(VALID, 1);                                  // the seed itself is valid
        Random random = new Random(Long.getLong("fuzz.seed", 11));   // -Dfuzz.seed=N explores other inputs
        int refused = 0;
        for (int round = 0; round < 20_000; round++) {
            char[] text = VALID.toCharArray();
            int edits = 1 + random.nextInt(4);
            StringBuilder sb = new StringBuilder(new String(text));
            for (int e = 0; e < edits && sb.length() > 0; e++) {
                int at = random.nextInt(sb.length());
                switch (random.nextInt(3)) {
                    case 0 -> sb.setCharAt(at, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                    case 1 -> sb.deleteCharAt(at);
                    default -> sb.insert(at, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                }
            }
            refused += parses(sb.toString()) ? 0 : 1;
        }
        for (int round = 0; round < 5_000; round++) {
            StringBuilder sb = new StringBuilder();
            int n = random.nextInt(80);
            for (int i = 0; i < n; i++) sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            refused += parses(sb.toString()) ? 0 : 1;
        }
        assertTrue(refused > 1000, "most mutations are refused: " + refused);
    }

    /** True if the text parsed; false if it was refused the one allowed way. */
    private static boolean parses(String text) {
        try {
            OfPipeline p = OfPipeline.parse(text, 1);
            OfPipeline.parse(text, 2, p);                            // and again, reusing its own rules
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        } catch (RuntimeException e) {
            fail("refused with " + e + " instead of IllegalArgumentException:\n" + text, e);
            return false;
        }
    }
}

package io.vswitch.ofproto.table;

import io.vswitch.ofproto.openflow.OfError;
import org.projectfloodlight.openflow.protocol.OFMeterFlags;
import org.projectfloodlight.openflow.protocol.OFMeterMod;
import org.projectfloodlight.openflow.protocol.OFMeterModCommand;
import org.projectfloodlight.openflow.protocol.OFMeterModFailedCode;
import org.projectfloodlight.openflow.protocol.meterband.OFMeterBand;
import org.projectfloodlight.openflow.protocol.meterband.OFMeterBandDrop;
import org.projectfloodlight.openflow.protocol.meterband.OFMeterBandDscpRemark;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A bridge's OpenFlow meters, the authoritative copy (OVS: {@code ofproto}'s meter table): meter-mods
 * with the specification's checks and error codes, and the counters the dataplane reports. Confined
 * to the OpenFlow event loop, like {@link FlowTables}.
 */
public final class MeterTable {
    /** OFPM_MAX: the highest meter number a meter may have (the virtual meters above it are OVS's own). */
    public static final long MAX_METER = 0xffff0000L;
    public static final long ALL = 0xffffffffL;
    /** Bands a meter may have. */
    public static final int MAX_BANDS = 8;

    /** One meter, with the dataplane's counters as last reported. */
    public record Meter(long id, Set<OFMeterFlags> flags, List<OFMeterBand> bands, long createdNanos,
                       long packets, long bytes, long[] bandPackets, long[] bandBytes) {
        Meter withCounts(long p, long b, long[] bp, long[] bb) {
            return new Meter(id, flags, bands, createdNanos, p, b, bp, bb);
        }
    }

    private final Map<Long, Meter> meters = new TreeMap<>();

    public boolean exists(long id) {
        return meters.containsKey(id);
    }

    /** Meters by ascending number. */
    public Collection<Meter> all() {
        return meters.values();
    }

    /** Applies a meter-mod, or throws the error it deserves and changes nothing; returns the meters deleted. */
    public List<Long> apply(OFMeterMod mm, long nowNanos) throws OfError {
        long id = mm.getMeterId() & 0xffffffffL;
        if (mm.getCommand() == OFMeterModCommand.DELETE) {
            if (id == ALL) {
                List<Long> gone = new ArrayList<>(meters.keySet());
                meters.clear();
                return gone;
            }
            return meters.remove(id) == null ? List.of() : List.of(id);
        }
        if (id == 0 || id > MAX_METER) throw OfError.meterModFailed(OFMeterModFailedCode.INVALID_METER, "meter " + id + " is not a meter number (1 to 0xffff0000)");
        boolean add = mm.getCommand() == OFMeterModCommand.ADD;
        Meter old = meters.get(id);
        if (add && old != null) throw OfError.meterModFailed(OFMeterModFailedCode.METER_EXISTS, "meter " + id + " exists");
        if (!add && old == null) throw OfError.meterModFailed(OFMeterModFailedCode.UNKNOWN_METER, "meter " + id + " does not exist");
        Set<OFMeterFlags> flags = mm.getFlags();
        if (flags.contains(OFMeterFlags.KBPS) == flags.contains(OFMeterFlags.PKTPS)) {
            throw OfError.meterModFailed(OFMeterModFailedCode.BAD_FLAGS, "a meter counts in kbps or in pktps");
        }
        List<OFMeterBand> bands = mm.getVersion() == org.projectfloodlight.openflow.protocol.OFVersion.OF_13 ? mm.getMeters() : mm.getBands();   // renamed in 1.4
        if (bands.isEmpty()) throw OfError.meterModFailed(OFMeterModFailedCode.BAD_BAND, "a meter needs a band");
        if (bands.size() > MAX_BANDS) throw OfError.meterModFailed(OFMeterModFailedCode.OUT_OF_BANDS, "at most " + MAX_BANDS + " bands");
        for (OFMeterBand b : bands) {
            long rate = b instanceof OFMeterBandDrop d ? d.getRate() : b instanceof OFMeterBandDscpRemark r ? r.getRate() : -1;
            if (rate < 0) throw OfError.meterModFailed(OFMeterModFailedCode.BAD_BAND, "band type " + b.getType() + " is not supported (drop, dscp_remark)");
            if (rate == 0) throw OfError.meterModFailed(OFMeterModFailedCode.BAD_RATE, "a band's rate must not be 0");
            if (b instanceof OFMeterBandDscpRemark r && (r.getPrecLevel() < 1 || r.getPrecLevel() > 2)) {
                throw OfError.meterModFailed(OFMeterModFailedCode.BAD_BAND_VALUE, "dscp_remark raises the drop precedence by 1 or 2");
            }
        }
        int n = bands.size();
        meters.put(id, new Meter(id, Set.copyOf(flags), List.copyOf(bands), add ? nowNanos : old.createdNanos(), 0, 0, new long[n], new long[n]));
        return List.of();
    }

    /** Sets the counts of the meter {@code published} was, if no meter-mod has replaced it since. */
    public void setCounts(Meter published, long packets, long bytes, long[] bandPackets, long[] bandBytes) {
        Meter m = meters.get(published.id());
        if (m != null && m.bands() == published.bands()) meters.put(m.id(), m.withCounts(packets, bytes, bandPackets, bandBytes));
    }
}

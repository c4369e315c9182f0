package io.vswitch.ofproto.openflow;

import org.projectfloodlight.openflow.protocol.OFBadActionCode;
import org.projectfloodlight.openflow.protocol.OFBadInstructionCode;
import org.projectfloodlight.openflow.protocol.OFBadMatchCode;
import org.projectfloodlight.openflow.protocol.OFBadRequestCode;
import org.projectfloodlight.openflow.protocol.OFErrorMsg;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFFlowModFailedCode;
import org.projectfloodlight.openflow.protocol.OFRoleRequestFailedCode;
import org.projectfloodlight.openflow.protocol.errormsg.OFErrorMsgs;
import org.projectfloodlight.openflow.types.OFErrorCauseData;

import java.util.function.BiFunction;

/**
 * A request the switch refuses, with the OpenFlow error type and code the specification names for
 * it; {@link #message} turns it into the ERROR reply (carrying the start of the offending request).
 */
public final class OfError extends Exception {
    private final transient BiFunction<OFErrorMsgs, OFErrorCauseData, OFErrorMsg> build;

    private OfError(String why, BiFunction<OFErrorMsgs, OFErrorCauseData, OFErrorMsg> build) {
        super(why, null, false, false);
        this.build = build;
    }

    public static OfError badRequest(OFBadRequestCode code, String why) {
        return new OfError(why, (e, d) -> e.buildBadRequestErrorMsg().setCode(code).setData(d).build());
    }

    public static OfError badMatch(OFBadMatchCode code, String why) {
        return new OfError(why, (e, d) -> e.buildBadMatchErrorMsg().setCode(code).setData(d).build());
    }

    public static OfError badAction(OFBadActionCode code, String why) {
        return new OfError(why, (e, d) -> e.buildBadActionErrorMsg().setCode(code).setData(d).build());
    }

    public static OfError badInstruction(OFBadInstructionCode code, String why) {
        return new OfError(why, (e, d) -> e.buildBadInstructionErrorMsg().setCode(code).setData(d).build());
    }

    public static OfError flowModFailed(OFFlowModFailedCode code, String why) {
        return new OfError(why, (e, d) -> e.buildFlowModFailedErrorMsg().setCode(code).setData(d).build());
    }

    public static OfError meterModFailed(String why) {
        return meterModFailed(org.projectfloodlight.openflow.protocol.OFMeterModFailedCode.INVALID_METER, why);
    }

    public static OfError meterModFailed(org.projectfloodlight.openflow.protocol.OFMeterModFailedCode code, String why) {
        return new OfError(why, (e, d) -> e.buildMeterModFailedErrorMsg().setCode(code).setData(d).build());
    }

    public static OfError portModFailed(org.projectfloodlight.openflow.protocol.OFPortModFailedCode code, String why) {
        return new OfError(why, (e, d) -> e.buildPortModFailedErrorMsg().setCode(code).setData(d).build());
    }

    public static OfError groupModFailed(org.projectfloodlight.openflow.protocol.OFGroupModFailedCode code, String why) {
        return new OfError(why, (e, d) -> e.buildGroupModFailedErrorMsg().setCode(code).setData(d).build());
    }

    public static OfError bundleFailed(org.projectfloodlight.openflow.protocol.OFBundleFailedCode code, String why) {
        return new OfError(why, (e, d) -> e.buildBundleFailedErrorMsg().setCode(code).setData(d).build());
    }

    public static OfError queueOpFailed(String why) {
        return new OfError(why, (e, d) -> e.buildQueueOpFailedErrorMsg().setCode(org.projectfloodlight.openflow.protocol.OFQueueOpFailedCode.BAD_PORT).setData(d).build());
    }

    public static OfError badQueue(String why) {
        return new OfError(why, (e, d) -> e.buildQueueOpFailedErrorMsg().setCode(org.projectfloodlight.openflow.protocol.OFQueueOpFailedCode.BAD_QUEUE).setData(d).build());
    }

    public static OfError roleRequestFailed(OFRoleRequestFailedCode code, String why) {
        return new OfError(why, (e, d) -> e.buildRoleRequestFailedErrorMsg().setCode(code).setData(d).build());
    }

    /** The ERROR message answering request {@code xid}; it quotes the request whole, as OVS does (the specification asks for at least 64 bytes). */
    public OFErrorMsg message(OFFactory factory, long xid, byte[] request) {
        byte[] cause = request.length <= 65535 - 12 ? request : java.util.Arrays.copyOf(request, 65535 - 12);
        OFErrorCauseData data = OFErrorCauseData.of(cause, factory.getVersion());
        try {
            OFErrorMsg m = build.apply(factory.errorMsgs(), data).createBuilder().setXid(xid).build();
            m.writeTo(io.netty.buffer.Unpooled.buffer(64 + cause.length));       // encodable in this version?
            return m;
        } catch (RuntimeException notInThisVersion) {
            // OpenFlow 1.0 lacks many types and codes (BAD_MATCH, BAD_INSTRUCTION, ...): say EPERM, as the closest it has
            return factory.errorMsgs().buildBadRequestErrorMsg().setXid(xid).setCode(OFBadRequestCode.EPERM).setData(data).build();
        }
    }
}

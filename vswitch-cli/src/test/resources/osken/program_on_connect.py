# An os-ken (Ryu) OpenFlow 1.3 app for OsKenControllerIT: when a switch connects it installs a
# table-miss flow to the controller (as os-ken's learning-switch examples do) and one IPv4 flow, and
# asks for the port descriptions; it logs what it saw so the test can check it.
from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.ofproto import ofproto_v1_3


class ProgramOnConnect(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def switch_features(self, ev):
        dp = ev.msg.datapath
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        self.logger.info("FEATURES dpid=%016x n_tables=%d", ev.msg.datapath_id, ev.msg.n_tables)
        to_controller = [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, priority=0, match=parser.OFPMatch(),
                                      instructions=[parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, to_controller)]))
        match = parser.OFPMatch(in_port=1, eth_type=0x0800, ipv4_dst=("10.0.0.0", "255.0.0.0"))
        dp.send_msg(parser.OFPFlowMod(datapath=dp, cookie=0x42, priority=100, match=match,
                                      instructions=[parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS,
                                                                                 [parser.OFPActionOutput(2)])]))
        # A flow the switch must refuse: goto_table backwards.
        dp.send_msg(parser.OFPFlowMod(datapath=dp, table_id=5, priority=1, match=parser.OFPMatch(),
                                      instructions=[parser.OFPInstructionGotoTable(3)]))
        dp.send_msg(parser.OFPPortDescStatsRequest(dp, 0))

    @set_ev_cls(ofp_event.EventOFPPortDescStatsReply, MAIN_DISPATCHER)
    def port_desc(self, ev):
        names = sorted(p.name.decode() if isinstance(p.name, bytes) else p.name for p in ev.msg.body)
        self.logger.info("PORTS %s", ",".join(names))

    @set_ev_cls(ofp_event.EventOFPErrorMsg, MAIN_DISPATCHER)
    def error(self, ev):
        self.logger.info("ERROR type=%d code=%d", ev.msg.type, ev.msg.code)

package io.vswitch.cli.vsctl;

/** Routes each command name to the class that implements it. */
final class Commands {
    private final BridgeCommands bridge;
    private final ControllerCommands controller;
    private final DatabaseCommands database;
    private final QueryCommands query;
    private final Show show;

    Commands(Snapshot db, Output output, StringBuilder err) {
        Records records = new Records(db);
        Bridges bridges = new Bridges(db);
        ColumnArgs columns = new ColumnArgs(db, records);
        this.bridge = new BridgeCommands(db, bridges, columns);
        this.controller = new ControllerCommands(db, bridges);
        this.database = new DatabaseCommands(db, records, columns, err);
        this.query = new QueryCommands(db, records, output);
        this.show = new Show(db);
    }

    void run(Command c) throws VsctlException {
        switch (c.name()) {
            case "init" -> { }   // reading the snapshot already created the root row if missing
            case "add-br" -> bridge.addBr(c);
            case "del-br" -> bridge.delBr(c);
            case "list-br" -> bridge.listBr(c);
            case "br-exists" -> bridge.brExists(c);
            case "br-to-vlan" -> bridge.brToVlan(c);
            case "br-to-parent" -> bridge.brToParent(c);
            case "add-bond" -> bridge.addBond(c);
            case "add-port" -> bridge.addPort(c);
            case "del-port" -> bridge.delPort(c);
            case "list-ports" -> bridge.listPorts(c);
            case "list-ifaces" -> bridge.listIfaces(c);
            case "port-to-br" -> bridge.portToBr(c);
            case "iface-to-br" -> bridge.ifaceToBr(c);
            case "get" -> database.get(c);
            case "set" -> database.set(c);
            case "clear" -> database.clear(c);
            case "add" -> database.addOrRemove(c, true);
            case "remove" -> database.addOrRemove(c, false);
            case "create" -> database.create(c);
            case "destroy" -> database.destroy(c);
            case "list" -> query.list(c);
            case "find" -> query.find(c);
            case "wait-until" -> query.waitUntil(c);
            case "emer-reset" -> controller.emerReset();
            case "show" -> show.print(c.out());
            case "set-controller" -> controller.setController(c);
            case "get-controller" -> controller.getController(c);
            case "del-controller" -> controller.delController(c);
            case "set-fail-mode" -> controller.setFailMode(c);
            case "get-fail-mode" -> controller.getFailMode(c);
            case "del-fail-mode" -> controller.delFailMode(c);
            case "set-manager" -> controller.setManager(c);
            case "get-manager" -> controller.getManager(c);
            case "del-manager" -> controller.delManager(c);
            default -> throw new VsctlException("unknown command '" + c.name() + "'; use --help for help");
        }
    }
}

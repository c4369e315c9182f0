/**
 * The RFC 7047 OVSDB server and client library: schema, transactions, monitors, durable log.
 *
 * <p>Not built yet: this module is the home of the OVSDB issue. Until then the control process keeps
 * its configuration in {@code io.vswitch.ofproto.bridge.ConfigStore}.
 */
package io.vswitch.ovsdb;

/**
 * vhost-user ports (QEMU guests, DPDK virtio-user): the vhost-user protocol over a unix socket with
 * SCM_RIGHTS, the guest memory table, split virtqueues and a {@code PortProvider} for the dataplane.
 *
 * <p>Not built yet: this module is the home of the vhost-user issue. Nothing here is used.
 */
package io.vswitch.vhostuser;

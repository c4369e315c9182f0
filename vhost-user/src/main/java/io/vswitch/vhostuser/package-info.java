/**
 * vhost-user ports (QEMU guests, DPDK virtio-user): the vhost-user protocol over a unix socket with
 * SCM_RIGHTS ({@code sys.UnixSocket}, {@link io.vswitch.vhostuser.VhostUserConnection}), the backend's
 * message handling ({@link io.vswitch.vhostuser.VhostUserDevice}), the guest memory table
 * ({@link io.vswitch.vhostuser.MemoryTable}), split virtqueues ({@link io.vswitch.vhostuser.Virtqueue}),
 * virtio-net framing ({@link io.vswitch.vhostuser.VirtioNet}) and the dataplane's
 * {@code PortProvider} ({@link io.vswitch.vhostuser.VhostUserPortProvider}).
 */
package io.vswitch.vhostuser;

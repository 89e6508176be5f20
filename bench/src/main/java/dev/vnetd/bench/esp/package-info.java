/** JMH benchmarks of the ESP core (crypto/ module): what one transit packet costs, per transform and provider. */
package dev.vnetd.bench.esp;

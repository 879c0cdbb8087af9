#!/bin/sh
# OpenMPI plm_rsh_agent for namespace hosts: "ssh HOST CMD..." becomes "ip netns exec HOST CMD".
h=$1; shift; exec "$(dirname "$0")/netns-hosts.sh" exec-host "$h" sh -c "$*"

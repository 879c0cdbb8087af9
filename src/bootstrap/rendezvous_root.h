// The rendezvous root: a thread that accepts every rank of one communicator, checks that each
// proves the secret, collects their ring addresses, and sends every rank the full table.
// Strangers cannot stall it: connections are served together (poll), at most
// TUTTI_BOOTSTRAP_MAX_PENDING of them may be unauthenticated at once, and each has
// TUTTI_BOOTSTRAP_AUTH_MS to prove the secret and announce itself.
#pragma once

#include <cstdint>

#include "bootstrap/bootstrap_messages.h"
#include "bootstrap/socket.h"
#include "bootstrap/unique_id.h"

namespace tutti {

// Starts a detached root thread serving `listener` until every rank has checked in or
// withdrawn, or `timeoutMs` has passed. Rejections (wrong secret, bad rank) are logged and
// survived.
void startRendezvousRoot(Socket listener, const uint8_t secret[kSecretBytes], int timeoutMs);
// When this process serves the root of the communicator whose id holds `secret`, waits until
// that root is done with every rank or `deadline` passes; returns at once otherwise. A rank
// that withdrew calls it so that its process outlives the root's answers to the others.
void waitForLocalRendezvousRoot(const uint8_t secret[kSecretBytes], Deadline deadline);

}  // namespace tutti

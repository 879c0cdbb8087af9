// Unique ids from untrusted bytes (decodeUniqueId) and TUTTI_COMM_ID / TUTTI_COMM_SECRET
// texts (uniqueIdFromSpec, numeric addresses only: a fuzzer must not query DNS).
// Input: the bytes of a tuttiUniqueId; read again as "<comm id>\n<secret hex>".
#include <cctype>

#include "bootstrap/unique_id.h"
#include "fuzz/fuzz_target.h"

using namespace tutti;

TUTTI_FUZZ_TARGET(unique_id) {
  tuttiUniqueId id;
  memset(&id, 0, sizeof(id));
  memcpy(id.internal, data, size < sizeof(id.internal) ? size : sizeof(id.internal));
  UniqueIdData d;
  if (decodeUniqueId(id, &d) == tuttiSuccess) {
    FUZZ_CHECK(d.family == 4 || d.family == 6, "family %d accepted", d.family);
    SocketAddress a = uniqueIdAddress(d);
    FUZZ_CHECK(a.port() == d.port, "port %d decoded as %d", d.port, a.port());
    (void)a.toString();
  }

  fuzz::Input in(data, size);
  const std::string commId = in.line(), secret = in.line();
  uint8_t bytes[kSecretBytes];
  if (parseHexSecret(secret, bytes)) {
    FUZZ_CHECK(secret.size() == 2 * kSecretBytes, "secret of %zu characters", secret.size());
    for (char c : secret) FUZZ_CHECK(isxdigit(static_cast<unsigned char>(c)), "'%c' in secret", c);
  }
  tuttiUniqueId made;
  if (uniqueIdFromSpec(commId, secret, false, &made) == tuttiSuccess) {
    UniqueIdData back;
    FUZZ_CHECK(decodeUniqueId(made, &back) == tuttiSuccess, "made an id it cannot read: %s",
               lastError().c_str());
    FUZZ_CHECK(back.port != 0 && back.rootByRank0 == 1, "port %d", back.port);
    if (!secret.empty())
      FUZZ_CHECK(parseHexSecret(secret, bytes) && !memcmp(bytes, back.secret, kSecretBytes),
                 "secret not carried");
  }
  return 0;
}

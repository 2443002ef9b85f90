#pragma once
// Thin wrappers over OpenSSL: digests, keyed hashes, random tokens, constant-time compare.

#include <cstddef>
#include <string>
#include <string_view>

namespace unipoints::core {

std::string Sha256Hex(std::string_view data);

// SHA-256 fed piece by piece; HexSoFar digests what was fed without ending the stream.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  std::string HexSoFar() const;

 private:
  void* ctx_;  // EVP_MD_CTX
};
// HMAC-SHA256 with a key given as hex; returns hex.
std::string HmacSha256Hex(std::string_view key_hex, std::string_view data);
// n cryptographically random bytes as 2n hex characters.
std::string RandomHex(std::size_t n_bytes);
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace unipoints::core

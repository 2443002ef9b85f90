#pragma once
// Thin wrappers over OpenSSL: digests, keyed hashes, random tokens, constant-time compare.

#include <cstddef>
#include <string>
#include <string_view>

namespace unipoints::core {

std::string Sha256Hex(std::string_view data);
// HMAC-SHA256 with a key given as hex; returns hex.
std::string HmacSha256Hex(std::string_view key_hex, std::string_view data);
// n cryptographically random bytes as 2n hex characters.
std::string RandomHex(std::size_t n_bytes);
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace unipoints::core

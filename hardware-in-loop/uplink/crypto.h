// Envelope cryptography for park-platform profiles (docs/platform.md), through OpenSSL EVP:
// AES-128/256-CBC and SM4-CBC (GB/T 32907) with PKCS#7 padding, SHA-256 and SM3 (GB/T 32905),
// HMAC over either, base64 and hex. Debian's OpenSSL 3.0 has SM4 and SM3 in its default provider.
// Every function throws std::runtime_error with a clear message on failure (a wrong key shows as
// "bad padding" on decryption).
#pragma once
#include <string>

namespace planttwin::uplink::crypto {

// "aes-128-cbc", "aes-256-cbc", "sm4-cbc"; key length 16, 32, 16 bytes; the IV is 16 bytes.
bool known_cipher(const std::string& name);
std::size_t cipher_key_bytes(const std::string& name);
std::string cbc_encrypt(const std::string& cipher, const std::string& key, const std::string& iv, const std::string& plain);
std::string cbc_decrypt(const std::string& cipher, const std::string& key, const std::string& iv, const std::string& data);
// One block without padding (ECB): the standards' single-block examples.
std::string block_encrypt(const std::string& cipher, const std::string& key, const std::string& block);

// "sha256", "sm3"
bool known_digest(const std::string& name);
std::string digest(const std::string& name, const std::string& data);
std::string hmac(const std::string& digest_name, const std::string& key, const std::string& data);

std::string random_bytes(std::size_t n);
std::string to_hex(const std::string& bytes);
std::string from_hex(const std::string& hex);  // throws on odd length or a non-hex digit
std::string base64_encode(const std::string& bytes);
std::string base64_decode(const std::string& text);  // throws on malformed base64

}  // namespace planttwin::uplink::crypto

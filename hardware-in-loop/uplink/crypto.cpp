#include "hardware-in-loop/uplink/crypto.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cctype>
#include <memory>
#include <stdexcept>

namespace planttwin::uplink::crypto {

namespace {

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  if (!e) return "OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

const EVP_CIPHER* cbc(const std::string& name) {
  if (name == "aes-128-cbc") return EVP_aes_128_cbc();
  if (name == "aes-256-cbc") return EVP_aes_256_cbc();
  if (name == "sm4-cbc") return EVP_sm4_cbc();
  throw std::runtime_error("cipher '" + name + "': not one of aes-128-cbc, aes-256-cbc, sm4-cbc");
}

const EVP_CIPHER* ecb(const std::string& name) {
  if (name == "aes-128-cbc") return EVP_aes_128_ecb();
  if (name == "aes-256-cbc") return EVP_aes_256_ecb();
  if (name == "sm4-cbc") return EVP_sm4_ecb();
  throw std::runtime_error("cipher '" + name + "': not one of aes-128-cbc, aes-256-cbc, sm4-cbc");
}

const EVP_MD* md(const std::string& name) {
  if (name == "sha256") return EVP_sha256();
  if (name == "sm3") return EVP_sm3();
  throw std::runtime_error("digest '" + name + "': not one of sha256, sm3");
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::string run(const EVP_CIPHER* c, const std::string& name, const std::string& key, const std::string& iv,
                const std::string& in, bool encrypt, bool padding) {
  if (key.size() != static_cast<size_t>(EVP_CIPHER_get_key_length(c)))
    throw std::runtime_error(name + ": the key is " + std::to_string(key.size()) + " bytes, the cipher takes " +
                             std::to_string(EVP_CIPHER_get_key_length(c)));
  const int iv_len = EVP_CIPHER_get_iv_length(c);
  if (iv_len > 0 && iv.size() != static_cast<size_t>(iv_len))
    throw std::runtime_error(name + ": the IV is " + std::to_string(iv.size()) + " bytes, the cipher takes " + std::to_string(iv_len));
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) throw std::runtime_error(name + ": " + openssl_error());
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  const auto* v = iv_len > 0 ? reinterpret_cast<const unsigned char*>(iv.data()) : nullptr;
  if (EVP_CipherInit_ex(ctx.get(), c, nullptr, k, v, encrypt ? 1 : 0) != 1) throw std::runtime_error(name + ": " + openssl_error());
  EVP_CIPHER_CTX_set_padding(ctx.get(), padding ? 1 : 0);
  std::string out(in.size() + 32, '\0');
  int n1 = 0, n2 = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_CipherUpdate(ctx.get(), o, &n1, reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size())) != 1)
    throw std::runtime_error(name + ": " + openssl_error());
  if (EVP_CipherFinal_ex(ctx.get(), o + n1, &n2) != 1) {
    ERR_clear_error();
    throw std::runtime_error(name + (encrypt ? ": cannot encrypt" : ": cannot decrypt (bad padding: a wrong key or IV, or damaged data)"));
  }
  out.resize(static_cast<size_t>(n1 + n2));
  return out;
}

}  // namespace

bool known_cipher(const std::string& n) { return n == "aes-128-cbc" || n == "aes-256-cbc" || n == "sm4-cbc"; }

std::size_t cipher_key_bytes(const std::string& name) { return static_cast<size_t>(EVP_CIPHER_get_key_length(cbc(name))); }

std::string cbc_encrypt(const std::string& cipher, const std::string& key, const std::string& iv, const std::string& plain) {
  return run(cbc(cipher), cipher, key, iv, plain, true, true);
}

std::string cbc_decrypt(const std::string& cipher, const std::string& key, const std::string& iv, const std::string& data) {
  if (data.empty() || data.size() % 16 != 0)
    throw std::runtime_error(cipher + ": cannot decrypt: " + std::to_string(data.size()) + " bytes is not a whole number of 16-byte blocks");
  return run(cbc(cipher), cipher, key, iv, data, false, true);
}

std::string block_encrypt(const std::string& cipher, const std::string& key, const std::string& block) {
  return run(ecb(cipher), cipher, key, "", block, true, false);
}

bool known_digest(const std::string& n) { return n == "sha256" || n == "sm3"; }

std::string digest(const std::string& name, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), out, &n, md(name), nullptr) != 1) throw std::runtime_error(name + ": " + openssl_error());
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string hmac(const std::string& digest_name, const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!HMAC(md(digest_name), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out, &n))
    throw std::runtime_error("hmac-" + digest_name + ": " + openssl_error());
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("random bytes: " + openssl_error());
  return out;
}

std::string to_hex(const std::string& bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

std::string from_hex(const std::string& hex) {
  auto val = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::runtime_error("'" + hex + "': not hexadecimal");
  };
  if (hex.size() % 2) throw std::runtime_error("'" + hex + "': odd number of hex digits");
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) out += static_cast<char>(val(hex[i]) * 16 + val(hex[i + 1]));
  return out;
}

std::string base64_encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string base64_decode(const std::string& text) {
  std::string t;
  for (char c : text)
    if (c != '\n' && c != '\r' && c != ' ') t += c;
  if (t.size() % 4) throw std::runtime_error("not base64 (length " + std::to_string(t.size()) + " is not a multiple of 4)");
  for (char c : t)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '='))
      throw std::runtime_error("not base64 (character '" + std::string(1, c) + "')");
  std::string out(t.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(t.data()),
                                static_cast<int>(t.size()));
  if (n < 0) throw std::runtime_error("not base64");
  size_t pad = 0;
  if (!t.empty() && t.back() == '=') ++pad;
  if (t.size() > 1 && t[t.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace planttwin::uplink::crypto

// fuzz_uplink_answer: what a park platform sends back, and what reaches `planttwin platform`
// (docs/platform.md, docs/uplink.md). Input: first byte selects the profile (bundled ones, then one
// with nested answer pointers) and what the rest is:
//   'A' an answer to a 2xx, read by the uplink (read_ack): never throws; the outcome is one of four;
//   'R' a request body the platform opens (open_request), with the credentials right and no
//       signature, so the fuzzed body reaches the envelope and the JSON: never throws; opened means
//       a JSON object with the records list, refused means an answers key and a reason;
//   'E' the plain body encrypted as the profile says, then opened: the same, deeper;
//   'V' a platform verdict (the file `live --platform-verdict` reads): refused with a message or read.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "hardware-in-loop/uplink/crypto.h"
#include "hardware-in-loop/uplink/platform.h"
#include "hardware-in-loop/uplink/profile.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace planttwin;

constexpr std::int64_t kNow = 1'800'000'000'000;

std::vector<uplink::UplinkProfile> make_profiles() {
  std::vector<uplink::UplinkProfile> out;
  for (const std::string& name : uplink::bundled_uplink_profiles()) {
    uplink::UplinkProfile p;
    std::string error;
    if (!uplink::load_uplink_profile(name, p, error)) {
      std::fprintf(stderr, "fuzz: %s\n", error.c_str());
      std::abort();
    }
    p.signature.clear();  // 'R' and 'E' reach the body; read_ack does not look at signatures
    out.push_back(p);
  }
  uplink::UplinkProfile nested;
  std::string error;
  const char* text =
      "profile: nested\npaths: {position: /p, person: none, zone: none, person_alarm: none, zone_alarm: none, gathering: none,\n"
      "  other_alarm: none, permit: none, permit_alarm: none}\n"
      "envelope: {cipher: aes-128-cbc, key: sha256, iv: derived, iv_digest: sha256, field: payload}\n"
      "credentials: {timestamp: unix_s, headers: {X-Ts: \"{timestamp}\"}}\n"
      "ack: {code: /result/0/code, message: /result/0/msg, batch_id: /id, success: [\"0\"], duplicate: [\"7\"], retry: [\"9\", \"busy\"]}\n"
      "answers: {ok: \"0\", duplicate: \"7\", busy: \"9\", bad_credentials: \"9\", bad_body: \"8\", invalid: \"8\"}\n";
  if (!uplink::parse_uplink_profile(text, "nested.yaml", nested, error)) {
    std::fprintf(stderr, "fuzz: %s\n", error.c_str());
    std::abort();
  }
  out.push_back(nested);
  return out;
}

const std::vector<uplink::UplinkProfile>& profiles() {
  static const std::vector<uplink::UplinkProfile>* p = new std::vector<uplink::UplinkProfile>(make_profiles());
  return *p;
}

void open_and_check(const uplink::UplinkProfile& p, const std::string& body) {
  const uplink::PlatformCredentials c{"app-1", "secret-1"};
  std::map<std::string, std::string> headers;
  const std::string ts = p.timestamp == "unix_s" ? std::to_string(kNow / 1000) : std::to_string(kNow);
  for (const auto& [name, tmpl] : p.headers)
    headers[name] = uplink::fill_template(tmpl, {{"app_id", c.app_id}, {"timestamp", ts}, {"nonce", "n"}, {"signature", ""}});
  std::string path = "/";
  for (const auto& [kind, pth] : p.paths)
    if (!pth.empty()) {
      path = pth;
      break;
    }
  const uplink::OpenedRequest o = uplink::open_request(p, c, path, headers, body, kNow);
  if (o.outcome.empty()) {
    if (!o.payload.is_object() || !o.payload.contains(p.records_key) || !o.payload[p.records_key].is_array())
      fuzz::broken("opened a body without its records list");
  } else if (o.outcome != "bad_body" && o.outcome != "bad_credentials") {
    fuzz::broken("a refusal that is no answers key");
  } else if (o.error.empty()) {
    fuzz::broken("refused without a reason");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const uplink::UplinkProfile& p = profiles()[data[0] % profiles().size()];
  const char mode = static_cast<char>(data[1]);
  const std::string rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  switch (mode) {
    case 'A': {
      const uplink::Ack a = uplink::read_ack(p, rest);
      using O = uplink::Ack::Outcome;
      if (a.outcome != O::stored && a.outcome != O::duplicate && a.outcome != O::retry && a.outcome != O::fatal)
        fuzz::broken("an outcome out of range");
      break;
    }
    case 'R':
      open_and_check(p, rest);
      break;
    case 'E': {
      if (p.cipher.empty()) {
        open_and_check(p, rest);
        break;
      }
      // the sender's own envelope around the fuzzed plain body
      const uplink::PlatformCredentials c{"app-1", "secret-1"};
      const std::string ts = p.timestamp == "unix_s" ? std::to_string(kNow / 1000) : std::to_string(kNow);
      std::string iv = "0123456789abcdef", prefix;
      if (p.iv_rule == "fixed") iv = p.iv_fixed;
      else if (p.iv_rule == "random-prefixed") prefix = iv;
      else break;  // derived: its digest is internal; 'R' covers the envelope's failures
      const std::string sealed = uplink::crypto::cbc_encrypt(p.cipher, uplink::derive_key(p, c.app_secret), iv, rest);
      open_and_check(p, "{\"" + p.cipher_field + "\":\"" + uplink::crypto::base64_encode(prefix + sealed) + "\"}");
      break;
    }
    case 'V': {
      static const std::string file = [] {
        const char* dir = std::getenv("TMPDIR");
        return std::string(dir && *dir ? dir : "/tmp") + "/fuzz_verdict." + std::to_string(::getpid()) + ".json";
      }();
      if (std::FILE* f = std::fopen(file.c_str(), "wb")) {
        std::fwrite(rest.data(), 1, rest.size(), f);
        std::fclose(f);
      }
      nlohmann::ordered_json section;
      std::string md, error;
      if (!uplink::platform_report_section(file, {}, section, md, error) && error.empty())
        fuzz::broken("a verdict refused without a message");
      break;
    }
    default:
      break;
  }
  return 0;
}

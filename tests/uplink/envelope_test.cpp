// Park-platform envelopes (issue 16, PL-11, SO-09; docs/platform.md): known-answer tests of the
// ciphers, digests and MACs from their published test vectors, the profiles' YAML (bundled ones
// load, a bad one names file:line:key), and requests built and opened in process for every shipped
// profile and every cipher / IV rule, including a wrong key and a wrong signature.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "hardware-in-loop/uplink/crypto.h"
#include "hardware-in-loop/uplink/profile.h"

namespace planttwin {
namespace {

namespace crypto = uplink::crypto;
using crypto::from_hex;
using crypto::to_hex;
using Json = nlohmann::ordered_json;

// GB/T 32907-2016 Appendix A, example 1: one block, key = plaintext
TEST(EnvelopeKnownAnswer, Sm4BlockOfGbT32907) {
  const std::string k = from_hex("0123456789abcdeffedcba9876543210");
  EXPECT_EQ(to_hex(crypto::block_encrypt("sm4-cbc", k, k)), "681edf34d206965e86b3e94f536e4246");
}

// SM4-CBC: draft-ribose-cfrg-sm4 (the SM4 Internet-Draft) CBC example, the same key
TEST(EnvelopeKnownAnswer, Sm4CbcOfTheSm4Draft) {
  const std::string k = from_hex("0123456789abcdeffedcba9876543210"), iv = from_hex("000102030405060708090a0b0c0d0e0f");
  const std::string pt = from_hex("aaaaaaaabbbbbbbbccccccccddddddddeeeeeeeeffffffffaaaaaaaabbbbbbbb");
  const std::string ct = crypto::cbc_encrypt("sm4-cbc", k, iv, pt);
  ASSERT_EQ(ct.size(), 48u);  // + one PKCS#7 padding block
  EXPECT_EQ(to_hex(ct.substr(0, 32)), "78ebb11cc40b0a48312aaeb2040244cb4cb7016951909226979b0d15dc6a8f6d");
  EXPECT_EQ(crypto::cbc_decrypt("sm4-cbc", k, iv, ct), pt);
}

// NIST SP 800-38A F.2.1 (CBC-AES128.Encrypt) and F.2.5 (CBC-AES256.Encrypt)
TEST(EnvelopeKnownAnswer, AesCbcOfSp800_38A) {
  const std::string iv = from_hex("000102030405060708090a0b0c0d0e0f");
  const std::string pt = from_hex(
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  const std::string k128 = from_hex("2b7e151628aed2a6abf7158809cf4f3c");
  const std::string c128 = crypto::cbc_encrypt("aes-128-cbc", k128, iv, pt);
  EXPECT_EQ(to_hex(c128.substr(0, 64)),
            "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7");
  EXPECT_EQ(crypto::cbc_decrypt("aes-128-cbc", k128, iv, c128), pt);
  const std::string k256 = from_hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
  const std::string c256 = crypto::cbc_encrypt("aes-256-cbc", k256, iv, pt);
  EXPECT_EQ(to_hex(c256.substr(0, 64)),
            "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b");
  EXPECT_EQ(crypto::cbc_decrypt("aes-256-cbc", k256, iv, c256), pt);
}

// RFC 4231 test cases 1 and 2 (HMAC-SHA-256)
TEST(EnvelopeKnownAnswer, HmacSha256OfRfc4231) {
  EXPECT_EQ(to_hex(crypto::hmac("sha256", std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(to_hex(crypto::hmac("sha256", "Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// GB/T 32905-2016 Appendix A, examples 1 and 2
TEST(EnvelopeKnownAnswer, Sm3OfGbT32905) {
  EXPECT_EQ(to_hex(crypto::digest("sm3", "abc")), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
  std::string abcd;
  for (int i = 0; i < 16; ++i) abcd += "abcd";
  EXPECT_EQ(to_hex(crypto::digest("sm3", abcd)), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
}

// RFC 4648 section 10
TEST(EnvelopeKnownAnswer, Base64OfRfc4648) {
  const char* v[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (auto& [plain, enc] : v) {
    EXPECT_EQ(crypto::base64_encode(plain), enc);
    EXPECT_EQ(crypto::base64_decode(enc), plain);
  }
  EXPECT_THROW(crypto::base64_decode("Zm9*"), std::runtime_error);
}

TEST(EnvelopeKnownAnswer, AWrongKeyDoesNotDecrypt) {
  const std::string iv(16, '\0');
  const std::string ct = crypto::cbc_encrypt("sm4-cbc", std::string(16, 'k'), iv, "{\"records\":[]}");
  // PKCS#7 catches most wrong keys; one in ~256 decrypts to a valid padding of garbage
  try {
    EXPECT_NE(crypto::cbc_decrypt("sm4-cbc", std::string(16, 'K'), iv, ct), "{\"records\":[]}");
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad padding"), std::string::npos) << e.what();
  }
}

// ---- profiles

std::string write(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::path(PLANTTWIN_BINARY_DIR) / "test-out" / "uplink-profile";
  std::filesystem::create_directories(dir);
  const auto p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}

const char* kPaths = R"(paths:
  person: /p
  zone: /z
  position: /pos
  person_alarm: /pa
  zone_alarm: /za
  gathering: /g
  other_alarm: none
  permit: /t
  permit_alarm: /ta
)";

TEST(UplinkProfile, BundledProfilesLoad) {
  for (const char* name : {"aq3064-sm4", "plain"}) {
    uplink::UplinkProfile p;
    std::string err;
    ASSERT_TRUE(uplink::load_uplink_profile(name, p, err)) << err;
    EXPECT_EQ(p.name, name);
    EXPECT_EQ(p.paths.size(), uplink::profile_kinds().size());
  }
  uplink::UplinkProfile p;
  std::string err;
  ASSERT_TRUE(uplink::load_uplink_profile("aq3064-sm4", p, err));
  EXPECT_EQ(p.cipher, "sm4-cbc");
  EXPECT_EQ(p.signature, "hmac-sm3");
  EXPECT_EQ(p.rules.at("position").cadence_max_gap_s, 30);  // PL-11
  EXPECT_EQ(p.rules.at("permit").permit_signed, "1");       // SO-09
  EXPECT_FALSE(uplink::load_uplink_profile("no-such-platform", p, err));
  EXPECT_NE(err.find("aq3064-sm4"), std::string::npos) << err;
}

TEST(UplinkProfile, ABadProfileNamesFileLineAndKey) {
  struct Case {
    std::string text, want;
  } cases[] = {
      {std::string(kPaths) + "envelope:\n  cipher: des-cbc\n", ":12: key 'envelope.cipher': 'des-cbc' is not one of"},
      {std::string(kPaths) + "colour: red\n", ":11: key 'colour': unknown key"},
      {"paths:\n  person: /p\n", ":2: key 'paths.zone': missing"},
      {std::string(kPaths) + "records:\n  position:\n    X: {from: X, as: furlongs}\n", ":13: key 'records.position.X.as': 'furlongs'"},
      {std::string(kPaths) + "ack:\n  code: code\n", ":12: key 'ack.code': 'code' is not a JSON pointer"},
      {std::string(kPaths) + "envelope:\n  cipher: sm4-cbc\n  iv: fixed\n", "key 'envelope.iv_hex': the fixed IV is missing"},
      {std::string(kPaths) + "rules:\n  position:\n    ranges: {X: [136, 73]}\n", ":13: key 'rules.position.ranges.X': min is above max"},
      {"paths:\n  person: /same\n  zone: /same\n", ":3: key 'paths.zone': '/same' is also the path of person"},
  };
  for (const Case& c : cases) {
    const std::string f = write("bad.yaml", c.text);
    uplink::UplinkProfile p;
    std::string err;
    EXPECT_FALSE(uplink::load_uplink_profile(f, p, err)) << c.text;
    EXPECT_EQ(err.rfind(f + ":", 0), 0u) << err;  // file:line: first
    EXPECT_NE(err.find(c.want), std::string::npos) << "got: " << err << "\nwant: " << c.want;
  }
}

// an outbox batch as the uplink forms it (docs/uplink.md)
std::string batch_body(const std::string& kind, const Json& records) {
  Json b;
  b["batch_seq"] = 7;
  b["outbox_id"] = "0123abcd";
  b["idempotency_key"] = "0123abcd-7";
  b["kind"] = kind;
  b["COMPANY_CODE"] = "91330000TEST0001";
  b["PARK_CODE"] = "PARK01";
  b["COORDINATE_SYSTEM"] = "CGCS2000";
  b["TIME_ZONE"] = "+08:00";
  b["CREATE_TIME"] = "2026-01-05 08:00:30";
  b["records"] = records;
  return b.dump();
}

Json position(const std::string& person, const std::string& t) {
  return Json{{"PERSON_ID", person}, {"TAG_ID", "T" + person}, {"X", 120.0001}, {"Y", 30.0002}, {"Z", 1.5}, {"FLOOR_NO", "1"}, {"TIME_STAMP", t}};
}

std::map<std::string, std::string> header_map(const uplink::PlatformRequest& r) {
  std::map<std::string, std::string> h;
  for (const auto& [k, v] : r.headers) h[k] = v;
  return h;
}

TEST(UplinkProfile, PL11_ShippedProfilesRoundTripInProcess) {
  const uplink::PlatformCredentials c{"APP-0001", "s3cret-of-the-enterprise"};
  const std::int64_t now = 1767571230000;  // 2026-01-05 08:00:30 +08:00
  for (const char* name : {"aq3064-sm4", "plain"}) {
    uplink::UplinkProfile p;
    std::string err;
    ASSERT_TRUE(uplink::load_uplink_profile(name, p, err)) << err;
    const std::string body = batch_body("position", Json::array({position("P01", "2026-01-05 08:00:29")}));
    const uplink::PlatformRequest r = uplink::build_request(p, c, body, now, "n0nce");
    EXPECT_EQ(r.kind, "position");
    EXPECT_EQ(r.path, p.paths.at("position"));
    const uplink::OpenedRequest o = uplink::open_request(p, c, r.path, header_map(r), r.body, now + 2000);
    ASSERT_EQ(o.outcome, "") << name << ": " << o.error;
    EXPECT_EQ(o.kind, "position");
    EXPECT_EQ(o.payload[p.records_key][0]["PERSON_ID"], "P01");
    EXPECT_EQ(o.payload[p.dedup_field], "0123abcd-7");
    if (std::string(name) == "aq3064-sm4") {
      EXPECT_EQ(r.body.find("P01"), std::string::npos) << "the body is encrypted";
      EXPECT_EQ(o.payload["IDENTIFIER"], "position");   // the constant with {kind}
      EXPECT_EQ(o.payload["CREATE_BY"], "planttwin");
      EXPECT_FALSE(o.payload[p.records_key][0].contains("TABLE"));  // only the mapped fields
      // two requests of the same batch differ (random IV), both open
      const uplink::PlatformRequest r2 = uplink::build_request(p, c, body, now, "n0nce");
      EXPECT_NE(r2.body, r.body);
      EXPECT_EQ(uplink::open_request(p, c, r2.path, header_map(r2), r2.body, now).outcome, "");
      // wrong secret: the signature fails first; a stale timestamp too
      const uplink::PlatformCredentials wrong{"APP-0001", "another-secret"};
      EXPECT_EQ(uplink::open_request(p, wrong, r.path, header_map(r), r.body, now).outcome, "bad_credentials");
      EXPECT_EQ(uplink::open_request(p, c, r.path, header_map(r), r.body, now + 301000).outcome, "bad_credentials");
      // a body changed on the way: the signature covers it
      std::string tampered = r.body;
      tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
      EXPECT_EQ(uplink::open_request(p, c, r.path, header_map(r), tampered, now).outcome, "bad_credentials");
    }
    // the acknowledgement the platform makes reads back as stored / duplicate / retry / fatal
    EXPECT_EQ(uplink::read_ack(p, uplink::make_ack(p, "ok", "ok", "B1")).outcome, uplink::Ack::Outcome::stored);
    EXPECT_EQ(uplink::read_ack(p, uplink::make_ack(p, "ok", "ok", "B1")).batch_id, "B1");
    if (!p.ack_code.empty()) {
      EXPECT_EQ(uplink::read_ack(p, uplink::make_ack(p, "duplicate", "", "")).outcome, uplink::Ack::Outcome::duplicate);
      EXPECT_EQ(uplink::read_ack(p, uplink::make_ack(p, "busy", "", "")).outcome, uplink::Ack::Outcome::retry);
      EXPECT_EQ(uplink::read_ack(p, uplink::make_ack(p, "bad_credentials", "", "")).outcome, uplink::Ack::Outcome::retry);
      EXPECT_EQ(uplink::read_ack(p, uplink::make_ack(p, "invalid", "", "")).outcome, uplink::Ack::Outcome::fatal);
      EXPECT_EQ(uplink::read_ack(p, "<html>gateway</html>").outcome, uplink::Ack::Outcome::retry);
    }
  }
}

// every cipher, key derivation and IV rule, with HMAC-SHA256 in base64; field formats and constants
TEST(UplinkProfile, EveryCipherAndIvRuleRoundTrips) {
  const std::int64_t now = 1767571230000;
  struct V {
    const char* cipher;
    const char* key;
    const char* iv;
    std::string secret;
  } vs[] = {{"aes-128-cbc", "utf8", "fixed", "0123456789abcdef"},
            {"aes-256-cbc", "sha256", "derived", "any length secret"},
            {"sm4-cbc", "hex", "random-prefixed", "00112233445566778899aabbccddeeff"},
            {"aes-128-cbc", "sm3", "derived", "x"}};
  for (const V& v : vs) {
    const std::string text = std::string(kPaths) +
                             "batch:\n  records: list\n  fields:\n    dataId: idempotency_key\n    at: {from: CREATE_TIME, as: unix_ms}\n"
                             "dedup: dataId\nrecords:\n  position:\n    personId: PERSON_ID\n    x: {from: X, as: string}\n"
                             "    t: {from: TIME_STAMP, as: unix_s}\n    src: {const: 7}\n"
                             "envelope:\n  cipher: " + v.cipher + "\n  key: " + v.key + "\n  iv: " + v.iv +
                             "\n  iv_hex: 000102030405060708090a0b0c0d0e0f\n  iv_digest: sha256\n  field: payload\n"
                             "credentials:\n  timestamp: unix_s\n  signature: hmac-sha256\n  string: \"{app_id}&{timestamp}&{body}\"\n"
                             "  encoding: base64\n  headers: {appKey: \"{app_id}\", ts: \"{timestamp}\", sign: \"{signature}\"}\n";
    uplink::UplinkProfile p;
    std::string err;
    ASSERT_TRUE(uplink::parse_uplink_profile(text, "t.yaml", p, err)) << err;
    const uplink::PlatformCredentials c{"A1", v.secret};
    const uplink::PlatformRequest r =
        uplink::build_request(p, c, batch_body("position", Json::array({position("P01", "2026-01-05 08:00:29")})), now, "");
    const uplink::OpenedRequest o = uplink::open_request(p, c, r.path, header_map(r), r.body, now);
    ASSERT_EQ(o.outcome, "") << v.cipher << " " << v.iv << ": " << o.error;
    EXPECT_TRUE(Json::parse(r.body).contains("payload"));
    EXPECT_EQ(o.payload["dataId"], "0123abcd-7");
    EXPECT_EQ(o.payload["at"], 1767571230000);  // 08:00:30 at +08:00
    const Json& rec = o.payload["list"][0];
    EXPECT_EQ(rec["personId"], "P01");
    EXPECT_EQ(rec["x"], "120.0001");
    EXPECT_EQ(rec["t"], 1767571229);
    EXPECT_EQ(rec["src"], 7);
    EXPECT_EQ(rec.size(), 4u);
    // the wrong key: refused as a body that does not open (no signature in this variant)
    uplink::UplinkProfile unsigned_p = p;
    unsigned_p.signature.clear();
    const uplink::PlatformCredentials other{"A1", std::string(v.key) == "hex" ? "ffeeddccbbaa99887766554433221100" : std::string(v.secret.size(), 'z')};
    const uplink::PlatformRequest r2 =
        uplink::build_request(unsigned_p, c, batch_body("position", Json::array({position("P01", "2026-01-05 08:00:29")})), now, "");
    EXPECT_EQ(uplink::open_request(unsigned_p, other, r2.path, header_map(r2), r2.body, now).outcome, "bad_body") << v.cipher;
  }
}

}  // namespace
}  // namespace planttwin

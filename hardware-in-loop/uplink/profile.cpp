#include "hardware-in-loop/uplink/profile.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "engine/time.h"
#include "hardware-in-loop/uplink/crypto.h"

namespace planttwin::uplink {

// The bundled profiles (profiles/uplink/*.yaml), embedded at build time.
extern const std::pair<const char*, const char*> kBundledUplinkProfiles[];
extern const std::size_t kBundledUplinkProfileCount;

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const std::vector<std::string>& profile_kinds() {
  static const std::vector<std::string> k = {"person",    "zone",        "position", "person_alarm", "zone_alarm",
                                             "gathering", "other_alarm", "permit",   "permit_alarm"};
  return k;
}

std::string record_kind(const std::string& batch_kind, const Json& first) {
  const std::string table = first.is_object() && first.contains("TABLE") && first["TABLE"].is_string() ? first["TABLE"].get<std::string>() : "";
  if (table == "AQ3064.3-B.1") return "person";
  if (table == "AQ3064.3-B.2") return "zone";
  if (table == "AQ3064.3-B.3") return "person_alarm";
  if (table == "AQ3064.3-B.4") return "zone_alarm";
  if (table == "AQ3064.3-B.5") return "gathering";
  if (table == "AQ3064.2-A.1") return "permit";
  if (table == "AQ3064.2-A.3") return "permit_alarm";
  if (table == "planttwin-alarm") return "other_alarm";
  return batch_kind;
}

std::vector<std::string> bundled_uplink_profiles() {
  std::vector<std::string> v;
  for (std::size_t i = 0; i < kBundledUplinkProfileCount; ++i) v.emplace_back(kBundledUplinkProfiles[i].first);
  return v;
}

namespace {

// "file:line: key 'k': "
struct Where {
  const std::string& file;
  std::string operator()(const YAML::Node& n, const std::string& key) const {
    const int line = n.IsDefined() && n.Mark().line >= 0 ? n.Mark().line + 1 : 1;
    return file + ":" + std::to_string(line) + ": key '" + key + "': ";
  }
};

struct Bad : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string text(const YAML::Node& n, const Where& w, const std::string& key) {
  if (!n.IsScalar()) throw Bad(w(n, key) + "must be a text value");
  return n.as<std::string>();
}

std::vector<std::string> texts(const YAML::Node& n, const Where& w, const std::string& key) {
  if (!n.IsSequence()) throw Bad(w(n, key) + "must be a list");
  std::vector<std::string> out;
  for (const auto& e : n) out.push_back(text(e, w, key));
  return out;
}

double number(const YAML::Node& n, const Where& w, const std::string& key) {
  try {
    if (!n.IsScalar()) throw YAML::Exception(n.Mark(), "");
    return n.as<double>();
  } catch (const YAML::Exception&) {
    throw Bad(w(n, key) + "must be a number");
  }
}

void only(const YAML::Node& map, const Where& w, const std::string& where, const std::set<std::string>& known) {
  if (!map.IsMap()) throw Bad(w(map, where) + "must be a mapping");
  for (const auto& kv : map) {
    const std::string k = kv.first.as<std::string>();
    if (!known.count(k)) {
      std::string list;
      for (const auto& s : known) list += (list.empty() ? "" : ", ") + s;
      throw Bad(w(kv.first, where.empty() ? k : where + "." + k) + "unknown key (known: " + list + ")");
    }
  }
}

Json yaml_value(const YAML::Node& n) {
  // a constant keeps its YAML type: a number stays a number, quoted text stays text
  const std::string s = n.as<std::string>();
  if (n.Tag() == "!") return s;  // quoted
  try {
    size_t used = 0;
    long long i = std::stoll(s, &used);
    if (used == s.size()) return i;
  } catch (...) {
  }
  try {
    size_t used = 0;
    double d = std::stod(s, &used);
    if (used == s.size()) return d;
  } catch (...) {
  }
  return s;
}

FieldMap field_map(const YAML::Node& n, const Where& w, const std::string& key) {
  if (!n.IsMap()) throw Bad(w(n, key) + "must be a mapping of the platform's field -> our field, {from, as} or {const}");
  FieldMap out;
  for (const auto& kv : n) {
    const std::string name = kv.first.as<std::string>();
    const std::string k = key + "." + name;
    FieldRule r;
    if (kv.second.IsScalar()) {
      r.from = kv.second.as<std::string>();
    } else if (kv.second.IsMap()) {
      only(kv.second, w, k, {"from", "const", "as"});
      if (kv.second["const"] && kv.second["from"]) throw Bad(w(kv.second, k) + "give from or const, not both");
      if (kv.second["const"]) {
        if (!kv.second["const"].IsScalar()) throw Bad(w(kv.second["const"], k + ".const") + "must be a single value");
        r.source = FieldRule::Source::constant;
        r.value = yaml_value(kv.second["const"]);
      } else if (kv.second["from"]) {
        r.from = text(kv.second["from"], w, k + ".from");
      } else {
        throw Bad(w(kv.second, k) + "needs from (our field) or const (a value)");
      }
      if (kv.second["as"]) {
        r.as = text(kv.second["as"], w, k + ".as");
        if (r.as != "string" && r.as != "number" && r.as != "unix_ms" && r.as != "unix_s")
          throw Bad(w(kv.second["as"], k + ".as") + "'" + r.as + "' is not one of string, number, unix_ms, unix_s");
      }
    } else {
      throw Bad(w(kv.second, k) + "must be our field's name, or {from: FIELD, as: FORMAT} or {const: VALUE}");
    }
    if (r.source == FieldRule::Source::field && r.from.empty()) throw Bad(w(kv.second, k) + "empty field name");
    out.emplace_back(name, std::move(r));
  }
  return out;
}

bool is_pointer(const std::string& s) { return s.empty() || s[0] == '/'; }

void parse(const YAML::Node& root, const Where& w, UplinkProfile& p) {
  only(root, w, "", {"profile", "description", "paths", "batch", "records", "dedup", "envelope", "credentials", "ack", "answers", "rules"});
  if (root["profile"]) p.name = text(root["profile"], w, "profile");
  // paths: every kind, each a path or none
  if (!root["paths"]) throw Bad(w(root, "paths") + "missing: one path per record kind (" + std::to_string(profile_kinds().size()) + " kinds)");
  const YAML::Node paths = root["paths"];
  std::set<std::string> kinds(profile_kinds().begin(), profile_kinds().end());
  only(paths, w, "paths", kinds);
  std::map<std::string, std::string> seen;
  for (const std::string& k : profile_kinds()) {
    if (!paths[k]) throw Bad(w(paths, "paths." + k) + "missing (a path such as /api/" + k + ", or none)");
    std::string v = text(paths[k], w, "paths." + k);
    if (v == "none") v.clear();
    else if (v.empty() || v[0] != '/') throw Bad(w(paths[k], "paths." + k) + "'" + v + "' must start with / (or be none)");
    if (!v.empty() && seen.count(v)) throw Bad(w(paths[k], "paths." + k) + "'" + v + "' is also the path of " + seen[v] + " (the platform tells kinds apart by path)");
    if (!v.empty()) seen[v] = k;
    p.paths[k] = v;
  }
  if (const YAML::Node b = root["batch"]) {
    only(b, w, "batch", {"records", "fields"});
    if (b["records"]) p.records_key = text(b["records"], w, "batch.records");
    if (b["fields"]) p.batch_fields = field_map(b["fields"], w, "batch.fields");
  }
  if (const YAML::Node r = root["records"]) {
    only(r, w, "records", kinds);
    for (const auto& kv : r) p.record_fields[kv.first.as<std::string>()] = field_map(kv.second, w, "records." + kv.first.as<std::string>());
  }
  if (root["dedup"]) p.dedup_field = text(root["dedup"], w, "dedup");
  if (const YAML::Node e = root["envelope"]) {
    only(e, w, "envelope", {"cipher", "key", "iv", "iv_hex", "iv_digest", "field"});
    p.cipher = text(e["cipher"], w, "envelope.cipher");
    if (p.cipher == "plain") p.cipher.clear();
    if (!p.cipher.empty() && !crypto::known_cipher(p.cipher))
      throw Bad(w(e["cipher"], "envelope.cipher") + "'" + p.cipher + "' is not one of plain, aes-128-cbc, aes-256-cbc, sm4-cbc");
    if (e["key"]) {
      p.key_from = text(e["key"], w, "envelope.key");
      if (p.key_from != "utf8" && p.key_from != "hex" && p.key_from != "sha256" && p.key_from != "sm3")
        throw Bad(w(e["key"], "envelope.key") + "'" + p.key_from + "' is not one of utf8, hex, sha256, sm3");
    }
    if (e["iv"]) {
      p.iv_rule = text(e["iv"], w, "envelope.iv");
      if (p.iv_rule != "fixed" && p.iv_rule != "random-prefixed" && p.iv_rule != "derived")
        throw Bad(w(e["iv"], "envelope.iv") + "'" + p.iv_rule + "' is not one of fixed, random-prefixed, derived");
    }
    if (p.iv_rule == "fixed") {
      if (!e["iv_hex"]) throw Bad(w(e, "envelope.iv_hex") + "the fixed IV is missing (32 hex digits)");
      try {
        p.iv_fixed = crypto::from_hex(text(e["iv_hex"], w, "envelope.iv_hex"));
      } catch (const Bad&) {
        throw;
      } catch (const std::exception& x) {
        throw Bad(w(e["iv_hex"], "envelope.iv_hex") + x.what());
      }
      if (p.iv_fixed.size() != 16) throw Bad(w(e["iv_hex"], "envelope.iv_hex") + "the IV is 16 bytes (32 hex digits)");
    }
    if (e["iv_digest"]) {
      p.iv_digest = text(e["iv_digest"], w, "envelope.iv_digest");
      if (!crypto::known_digest(p.iv_digest)) throw Bad(w(e["iv_digest"], "envelope.iv_digest") + "not one of sha256, sm3");
    }
    if (e["field"]) p.cipher_field = text(e["field"], w, "envelope.field");
  }
  if (const YAML::Node c = root["credentials"]) {
    only(c, w, "credentials", {"timestamp", "signature", "string", "encoding", "headers", "max_skew_s"});
    if (c["timestamp"]) {
      p.timestamp = text(c["timestamp"], w, "credentials.timestamp");
      if (p.timestamp != "unix_ms" && p.timestamp != "unix_s") throw Bad(w(c["timestamp"], "credentials.timestamp") + "not one of unix_ms, unix_s");
    }
    if (c["signature"]) {
      p.signature = text(c["signature"], w, "credentials.signature");
      if (p.signature == "none") p.signature.clear();
      if (!p.signature.empty() && p.signature != "hmac-sha256" && p.signature != "hmac-sm3" && p.signature != "sha256" && p.signature != "sm3")
        throw Bad(w(c["signature"], "credentials.signature") + "'" + p.signature + "' is not one of none, hmac-sha256, hmac-sm3, sha256, sm3");
      if (!p.signature.empty() && !c["string"]) throw Bad(w(c, "credentials.string") + "a signature needs its canonical string");
    }
    if (c["string"]) p.sign_string = text(c["string"], w, "credentials.string");
    if ((p.signature == "sha256" || p.signature == "sm3") && p.sign_string.find("{secret}") == std::string::npos)
      throw Bad(w(c["string"], "credentials.string") + "a plain digest signature must include {secret}");
    if (c["encoding"]) {
      p.sign_encoding = text(c["encoding"], w, "credentials.encoding");
      if (p.sign_encoding != "hex" && p.sign_encoding != "base64") throw Bad(w(c["encoding"], "credentials.encoding") + "not one of hex, base64");
    }
    if (c["max_skew_s"]) p.max_skew_s = number(c["max_skew_s"], w, "credentials.max_skew_s");
    if (c["headers"]) {
      if (!c["headers"].IsMap()) throw Bad(w(c["headers"], "credentials.headers") + "a mapping of header name -> template");
      for (const auto& kv : c["headers"]) p.headers.emplace_back(kv.first.as<std::string>(), text(kv.second, w, "credentials.headers." + kv.first.as<std::string>()));
    }
  }
  if (const YAML::Node a = root["ack"]) {
    only(a, w, "ack", {"code", "message", "batch_id", "success", "duplicate", "retry"});
    auto ptr = [&](const char* k, std::string& out) {
      if (!a[k]) return;
      out = text(a[k], w, std::string("ack.") + k);
      if (!is_pointer(out)) throw Bad(w(a[k], std::string("ack.") + k) + "'" + out + "' is not a JSON pointer (starts with /)");
    };
    ptr("code", p.ack_code);
    ptr("message", p.ack_message);
    ptr("batch_id", p.ack_batch_id);
    if (a["success"]) p.ack_success = texts(a["success"], w, "ack.success");
    if (a["duplicate"]) p.ack_duplicate = texts(a["duplicate"], w, "ack.duplicate");
    if (a["retry"]) p.ack_retry = texts(a["retry"], w, "ack.retry");
    if (!p.ack_code.empty() && p.ack_success.empty()) throw Bad(w(a, "ack.success") + "the success codes are missing");
  }
  if (const YAML::Node an = root["answers"]) {
    only(an, w, "answers", {"ok", "duplicate", "busy", "bad_credentials", "bad_body", "invalid"});
    for (const auto& kv : an) p.answers[kv.first.as<std::string>()] = text(kv.second, w, "answers." + kv.first.as<std::string>());
  }
  if (!p.ack_code.empty())
    for (const char* k : {"ok", "duplicate", "busy", "bad_credentials", "bad_body", "invalid"})
      if (!p.answers.count(k)) throw Bad(w(root["answers"] ? root["answers"] : root, std::string("answers.") + k) + "missing: the code `planttwin platform` answers");
  if (const YAML::Node r = root["rules"]) {
    only(r, w, "rules", kinds);
    for (const auto& kv : r) {
      const std::string kind = kv.first.as<std::string>(), k = "rules." + kind;
      only(kv.second, w, k, {"required", "codes", "ranges", "cadence", "permit"});
      KindRules& kr = p.rules[kind];
      if (kv.second["required"]) kr.required = texts(kv.second["required"], w, k + ".required");
      if (const YAML::Node codes = kv.second["codes"]) {
        if (!codes.IsMap()) throw Bad(w(codes, k + ".codes") + "a mapping of field -> list of allowed values");
        for (const auto& c : codes) kr.codes[c.first.as<std::string>()] = texts(c.second, w, k + ".codes." + c.first.as<std::string>());
      }
      if (const YAML::Node ranges = kv.second["ranges"]) {
        if (!ranges.IsMap()) throw Bad(w(ranges, k + ".ranges") + "a mapping of field -> [min, max]");
        for (const auto& c : ranges) {
          const std::string rk = k + ".ranges." + c.first.as<std::string>();
          if (!c.second.IsSequence() || c.second.size() != 2) throw Bad(w(c.second, rk) + "must be [min, max]");
          const double lo = number(c.second[0], w, rk), hi = number(c.second[1], w, rk);
          if (lo > hi) throw Bad(w(c.second, rk) + "min is above max");
          kr.ranges[c.first.as<std::string>()] = {lo, hi};
        }
      }
      if (const YAML::Node cad = kv.second["cadence"]) {
        only(cad, w, k + ".cadence", {"person", "time", "max_gap_s"});
        for (const char* need : {"person", "time", "max_gap_s"})
          if (!cad[need]) throw Bad(w(cad, k + ".cadence." + need) + "missing");
        kr.cadence_person = text(cad["person"], w, k + ".cadence.person");
        kr.cadence_time = text(cad["time"], w, k + ".cadence.time");
        kr.cadence_max_gap_s = number(cad["max_gap_s"], w, k + ".cadence.max_gap_s");
        if (kr.cadence_max_gap_s <= 0) throw Bad(w(cad["max_gap_s"], k + ".cadence.max_gap_s") + "must be positive");
      }
      if (const YAML::Node pm = kv.second["permit"]) {
        only(pm, w, k + ".permit", {"id", "status", "signed", "accepted", "after_signing"});
        for (const char* need : {"id", "status", "signed", "accepted"})
          if (!pm[need]) throw Bad(w(pm, k + ".permit." + need) + "missing");
        kr.permit_id = text(pm["id"], w, k + ".permit.id");
        kr.permit_status = text(pm["status"], w, k + ".permit.status");
        kr.permit_signed = text(pm["signed"], w, k + ".permit.signed");
        kr.permit_accepted = text(pm["accepted"], w, k + ".permit.accepted");
        if (pm["after_signing"]) kr.permit_after_signing = texts(pm["after_signing"], w, k + ".permit.after_signing");
      }
    }
  }
}

}  // namespace

bool parse_uplink_profile(const std::string& text_in, const std::string& file, UplinkProfile& out, std::string& error) {
  YAML::Node root;
  try {
    root = YAML::Load(text_in);
  } catch (const YAML::Exception& e) {
    error = file + ":" + std::to_string(e.mark.line + 1) + ": not YAML: " + e.msg;
    return false;
  }
  if (!root.IsMap()) {
    error = file + ":1: an uplink profile is a mapping (profile, paths, batch, records, envelope, credentials, ack, answers, rules)";
    return false;
  }
  UplinkProfile p;
  p.file = file;
  p.name = fs::path(file).stem().string();
  try {
    parse(root, Where{file}, p);
  } catch (const Bad& e) {
    error = e.what();
    return false;
  } catch (const YAML::Exception& e) {
    error = file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg;
    return false;
  }
  out = std::move(p);
  return true;
}

bool load_uplink_profile(const std::string& name_or_file, UplinkProfile& out, std::string& error) {
  std::error_code ec;
  if (fs::is_regular_file(name_or_file, ec)) {
    std::ifstream f(name_or_file, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    if (!f) {
      error = name_or_file + ":1: cannot read the profile";
      return false;
    }
    return parse_uplink_profile(ss.str(), name_or_file, out, error);
  }
  for (std::size_t i = 0; i < kBundledUplinkProfileCount; ++i)
    if (name_or_file == kBundledUplinkProfiles[i].first) {
      if (!parse_uplink_profile(kBundledUplinkProfiles[i].second, std::string("profiles/uplink/") + kBundledUplinkProfiles[i].first + ".yaml", out, error))
        return false;
      out.file.clear();
      return true;
    }
  std::string names;
  for (const std::string& n : bundled_uplink_profiles()) names += (names.empty() ? "" : ", ") + n;
  error = name_or_file + ": no such profile file, and not a bundled uplink profile (" + names + ")";
  return false;
}

bool load_credentials(const std::string& file, PlatformCredentials& out, std::string& error) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    error = file + ":1: cannot read the credentials file";
    return false;
  } catch (const YAML::Exception& e) {
    error = file + ":" + std::to_string(e.mark.line + 1) + ": not YAML: " + e.msg;
    return false;
  }
  try {
    const Where w{file};
    only(root, w, "", {"app_id", "app_secret"});
    for (const char* k : {"app_id", "app_secret"})
      if (!root[k]) throw Bad(w(root, k) + "missing");
    out.app_id = text(root["app_id"], w, "app_id");
    out.app_secret = text(root["app_secret"], w, "app_secret");
    if (out.app_secret.empty()) throw Bad(w(root["app_secret"], "app_secret") + "empty");
  } catch (const Bad& e) {
    error = e.what();
    return false;
  }
  return true;
}

std::string fill_template(const std::string& t, const std::map<std::string, std::string>& values) {
  std::string out;
  for (size_t i = 0; i < t.size();) {
    if (t[i] == '{') {
      const size_t close = t.find('}', i);
      if (close != std::string::npos) {
        auto it = values.find(t.substr(i + 1, close - i - 1));
        if (it != values.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out += t[i++];
  }
  return out;
}

std::string derive_key(const UplinkProfile& p, const std::string& secret) {
  const size_t n = crypto::cipher_key_bytes(p.cipher);
  std::string k;
  if (p.key_from == "utf8") k = secret;
  else if (p.key_from == "hex") k = crypto::from_hex(secret);
  else {
    k = crypto::digest(p.key_from, secret);
    if (k.size() > n) k.resize(n);
  }
  if (k.size() != n)
    throw std::runtime_error("profile " + p.name + ": the key from the app secret (" + p.key_from + ") is " + std::to_string(k.size()) +
                             " bytes, " + p.cipher + " takes " + std::to_string(n));
  return k;
}

namespace {

// "yyyy-MM-dd HH:mm:ss" at "+08:00" -> Unix ms; false when not such a time
bool local_to_unix_ms(const std::string& s, const std::string& zone, std::int64_t& ms) {
  int y, mo, d, h, mi, sec;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6) return false;
  int off = 0;
  if (zone.size() == 6) {
    const int oh = std::atoi(zone.substr(1, 2).c_str()), om = std::atoi(zone.substr(4, 2).c_str());
    off = (oh * 60 + om) * (zone[0] == '-' ? -1 : 1);
  }
  ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - off * 60) * 1000LL;
  return true;
}

Json convert(const Json& v, const std::string& as, const std::string& zone) {
  if (as.empty()) return v;
  if (as == "string") return v.is_string() ? v : Json(v.dump());
  if (as == "number") {
    if (v.is_number()) return v;
    if (v.is_string()) {
      try {
        size_t used = 0;
        const std::string s = v.get<std::string>();
        const double d = std::stod(s, &used);
        if (used == s.size()) return d == static_cast<double>(static_cast<long long>(d)) ? Json(static_cast<long long>(d)) : Json(d);
      } catch (...) {
      }
    }
    return v;
  }
  std::int64_t ms = 0;
  if (v.is_string() && local_to_unix_ms(v.get<std::string>(), zone, ms)) return as == "unix_ms" ? Json(ms) : Json(ms / 1000);
  return v;  // "" (an open end time) stays as it is
}

Json apply(const FieldMap& m, const Json& src, const std::string& kind, const std::string& zone) {
  Json out = Json::object();
  for (const auto& [name, r] : m) {
    if (r.source == FieldRule::Source::constant) {
      Json v = r.value;
      if (v.is_string()) v = fill_template(v.get<std::string>(), {{"kind", kind}});
      out[name] = convert(v, r.as, zone);
    } else if (src.contains(r.from)) {
      out[name] = convert(src[r.from], r.as, zone);
    }
  }
  return out;
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string timestamp_text(const UplinkProfile& p, std::int64_t now_ms) {
  return std::to_string(p.timestamp == "unix_s" ? now_ms / 1000 : now_ms);
}

std::string derived_iv(const UplinkProfile& p, const std::string& secret, const std::string& timestamp) {
  return crypto::digest(p.iv_digest, secret + timestamp).substr(0, 16);
}

std::string sign(const UplinkProfile& p, const PlatformCredentials& c, const std::map<std::string, std::string>& values) {
  const std::string s = fill_template(p.sign_string, values);
  std::string mac;
  if (p.signature == "hmac-sha256") mac = crypto::hmac("sha256", c.app_secret, s);
  else if (p.signature == "hmac-sm3") mac = crypto::hmac("sm3", c.app_secret, s);
  else mac = crypto::digest(p.signature, s);
  return p.sign_encoding == "base64" ? crypto::base64_encode(mac) : crypto::to_hex(mac);
}

std::string code_text(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

bool has(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x == s) return true;
  return false;
}

}  // namespace

std::string map_batch(const UplinkProfile& p, const std::string& batch_body, std::string* kind_out) {
  const Json batch = Json::parse(batch_body, nullptr, false);
  if (!batch.is_object() || !batch.contains("records") || !batch["records"].is_array())
    throw std::runtime_error("outbox batch: not a batch envelope with records");
  const Json& records = batch["records"];
  const std::string kind = record_kind(batch.value("kind", ""), records.empty() ? Json() : records[0]);
  if (kind_out) *kind_out = kind;
  const std::string zone = batch.value("TIME_ZONE", "+08:00");
  Json out;
  if (p.batch_fields) {
    out = apply(*p.batch_fields, batch, kind, zone);
  } else {
    out = batch;
    out.erase("records");
  }
  auto m = p.record_fields.find(kind);
  if (m == p.record_fields.end()) {
    out[p.records_key] = records;
  } else {
    Json arr = Json::array();
    for (const Json& r : records) arr.push_back(apply(m->second, r, kind, zone));
    out[p.records_key] = std::move(arr);
  }
  return dump(out);
}

PlatformRequest build_request(const UplinkProfile& p, const PlatformCredentials& c, const std::string& batch_body,
                              std::int64_t now_ms, const std::string& nonce) {
  PlatformRequest r;
  const std::string plain = map_batch(p, batch_body, &r.kind);
  auto path = p.paths.find(r.kind);
  r.path = path == p.paths.end() ? std::string() : path->second;
  if (r.path.empty()) return r;
  const std::string ts = timestamp_text(p, now_ms);
  if (p.cipher.empty()) {
    r.body = plain;
  } else {
    const std::string key = derive_key(p, c.app_secret);
    std::string iv = p.iv_rule == "fixed" ? p.iv_fixed : p.iv_rule == "derived" ? derived_iv(p, c.app_secret, ts) : crypto::random_bytes(16);
    std::string data = crypto::cbc_encrypt(p.cipher, key, iv, plain);
    if (p.iv_rule == "random-prefixed") data = iv + data;
    Json body;
    body[p.cipher_field] = crypto::base64_encode(data);
    r.body = dump(body);
  }
  std::map<std::string, std::string> v = {{"app_id", c.app_id}, {"timestamp", ts}, {"nonce", nonce}, {"body", r.body},
                                          {"path", r.path},      {"secret", c.app_secret}};
  if (!p.signature.empty()) v["signature"] = sign(p, c, v);
  v.erase("secret");  // never into a header
  for (const auto& [name, tmpl] : p.headers) r.headers.emplace_back(name, fill_template(tmpl, v));
  return r;
}

Ack read_ack(const UplinkProfile& p, const std::string& body) {
  Ack a;
  const Json j = Json::parse(body, nullptr, false);
  auto at = [&](const std::string& ptr) -> const Json* {
    if (ptr.empty() || !j.is_object()) return nullptr;
    try {
      const Json::json_pointer jp(ptr);
      return j.contains(jp) ? &j.at(jp) : nullptr;
    } catch (const Json::exception&) {
      return nullptr;
    }
  };
  if (const Json* m = at(p.ack_message)) a.message = code_text(*m);
  // without a batch id pointer, the plain contract's {"batch_id": ...} (docs/uplink.md)
  if (const Json* b = at(p.ack_batch_id.empty() ? std::string("/batch_id") : p.ack_batch_id)) a.batch_id = code_text(*b);
  if (p.ack_code.empty()) return a;  // any 2xx is stored
  const Json* code = at(p.ack_code);
  if (!code) {
    a.outcome = Ack::Outcome::retry;  // an answer that does not parse: as an HTTP error, sent again
    a.message = "no acknowledgement code at " + p.ack_code + " in the answer";
    return a;
  }
  a.code = code_text(*code);
  a.outcome = has(p.ack_success, a.code)     ? Ack::Outcome::stored
              : has(p.ack_duplicate, a.code) ? Ack::Outcome::duplicate
              : has(p.ack_retry, a.code)     ? Ack::Outcome::retry
                                             : Ack::Outcome::fatal;
  return a;
}

OpenedRequest open_request(const UplinkProfile& p, const PlatformCredentials& c, const std::string& path,
                           const std::map<std::string, std::string>& headers, const std::string& body, std::int64_t now_ms) {
  OpenedRequest o;
  for (const auto& [k, v] : p.paths)
    if (!v.empty() && v == path) o.kind = k;
  if (o.kind.empty()) {
    o.outcome = "bad_body";
    o.error = "no record kind has the path " + path;
    return o;
  }
  // credentials: the headers' templates read back
  std::map<std::string, std::string> got;
  auto header = [&](const std::string& name) -> std::string {
    for (const auto& [k, v] : headers)
      if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
        return v;
    return "";
  };
  for (const auto& [name, tmpl] : p.headers)
    if (tmpl.size() > 2 && tmpl.front() == '{' && tmpl.back() == '}') got[tmpl.substr(1, tmpl.size() - 2)] = header(name);
  if (got.count("app_id") && got["app_id"] != c.app_id) {
    o.outcome = "bad_credentials";
    o.error = "unknown app id '" + got["app_id"] + "'";
    return o;
  }
  const std::string ts = got.count("timestamp") ? got["timestamp"] : "";
  if (!ts.empty() || p.iv_rule == "derived" || !p.signature.empty()) {
    std::int64_t t = 0;
    try {
      t = std::stoll(ts);
    } catch (...) {
      o.outcome = "bad_credentials";
      o.error = "timestamp '" + ts + "' is not a number";
      return o;
    }
    const std::int64_t t_ms = p.timestamp == "unix_s" ? t * 1000 : t;
    if (std::llabs(now_ms - t_ms) > static_cast<std::int64_t>(p.max_skew_s * 1000)) {
      o.outcome = "bad_credentials";
      o.error = "timestamp " + ts + " is more than " + std::to_string(static_cast<long long>(p.max_skew_s)) + " s from the platform's clock";
      return o;
    }
  }
  if (!p.signature.empty()) {
    std::map<std::string, std::string> v = {{"app_id", c.app_id}, {"timestamp", ts}, {"nonce", got.count("nonce") ? got["nonce"] : ""},
                                            {"body", body},        {"path", path},    {"secret", c.app_secret}};
    const std::string want = sign(p, c, v);
    if (!got.count("signature") || got["signature"] != want) {
      o.outcome = "bad_credentials";
      o.error = "wrong signature (" + p.signature + ")";
      return o;
    }
  }
  std::string plain = body;
  if (!p.cipher.empty()) {
    try {
      const Json b = Json::parse(body);
      std::string data = crypto::base64_decode(b.at(p.cipher_field).get<std::string>());
      std::string iv;
      if (p.iv_rule == "fixed") iv = p.iv_fixed;
      else if (p.iv_rule == "derived") iv = derived_iv(p, c.app_secret, ts);
      else {
        if (data.size() < 32) throw std::runtime_error("shorter than an IV and one block");
        iv = data.substr(0, 16);
        data = data.substr(16);
      }
      plain = crypto::cbc_decrypt(p.cipher, derive_key(p, c.app_secret), iv, data);
    } catch (const std::exception& e) {
      o.outcome = "bad_body";
      o.error = std::string("cannot open the envelope: ") + e.what();
      return o;
    }
  }
  o.payload = Json::parse(plain, nullptr, false);
  if (!o.payload.is_object() || !o.payload.contains(p.records_key) || !o.payload[p.records_key].is_array()) {
    o.outcome = "bad_body";
    o.error = "the body is not a JSON object with a '" + p.records_key + "' list";
  }
  return o;
}

std::string make_ack(const UplinkProfile& p, const std::string& answer, const std::string& message, const std::string& batch_id) {
  Json j = Json::object();
  if (p.ack_code.empty()) {
    j["result"] = answer;
    j["message"] = message;
    if (!batch_id.empty()) j["batch_id"] = batch_id;
    return dump(j);
  }
  auto put = [&](const std::string& ptr, const Json& v) {
    if (!ptr.empty()) j[Json::json_pointer(ptr)] = v;
  };
  const std::string code = p.answers.count(answer) ? p.answers.at(answer) : answer;
  const bool digits = !code.empty() && code.find_first_not_of("0123456789") == std::string::npos && code.size() < 10;
  put(p.ack_code, digits ? Json(std::stoll(code)) : Json(code));
  put(p.ack_message, message);
  if (!batch_id.empty()) put(p.ack_batch_id, batch_id);
  return dump(j);
}

}  // namespace planttwin::uplink

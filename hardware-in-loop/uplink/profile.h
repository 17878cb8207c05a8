// Park-platform profiles (docs/platform.md): what one park or provincial platform expects of an
// uplink. One path per record kind, a field map (our record fields -> the platform's names,
// constants and formats), the body envelope (plain, or AES-128/256-CBC or SM4-CBC with base64, the
// key derived from the app secret, an IV rule), the credential headers (app id, timestamp, a
// signature over a stated canonical string) and how the platform acknowledges a batch.
//
// The same profile serves both ends: the uplink's sender turns an outbox batch into the platform's
// request (build_request) and reads its answer (read_ack); `planttwin platform` (platform.h) opens
// the request (open_request), validates the records against the profile's rules and answers in the
// profile's acknowledgement format (make_ack).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace planttwin::uplink {

// Record kinds, one path each: AQ3 B.1 person, B.2 zone, positions, B.3 person alarm, B.4 zone
// alarm, B.5 gathering, planttwin alarms outside B.3/B.4 (other_alarm), AQ2 A.1 permit, A.3 alarm.
const std::vector<std::string>& profile_kinds();
// The kind of an outbox batch: from its first record's TABLE, "position" for position batches.
std::string record_kind(const std::string& batch_kind, const nlohmann::ordered_json& first_record);

struct FieldRule {
  enum class Source { field, constant } source = Source::field;
  std::string from;              // our field (source field)
  nlohmann::ordered_json value;  // the constant (source constant); "{kind}" in a text is replaced
  std::string as;                // "" as is, "string", "number", "unix_ms", "unix_s"
};
using FieldMap = std::vector<std::pair<std::string, FieldRule>>;  // platform name -> rule, in order

struct KindRules {  // the platform's checks, in the platform's field names
  std::vector<std::string> required;
  std::map<std::string, std::vector<std::string>> codes;           // field -> allowed values (as text)
  std::map<std::string, std::pair<double, double>> ranges;         // field -> [min, max]
  std::string cadence_person, cadence_time;                        // PL-11: positions per person ...
  double cadence_max_gap_s = 0;                                    // ... at most this far apart (0: no check)
  std::string permit_id, permit_status, permit_signed, permit_accepted;  // SO-09
  std::vector<std::string> permit_after_signing;  // statuses that mean the permit was signed before
};

struct UplinkProfile {
  std::string name, file;  // file "" for a bundled profile
  std::map<std::string, std::string> paths;  // kind -> path appended to the URL; "" : not sent
  // body before encryption
  std::string records_key = "records";
  std::optional<FieldMap> batch_fields;          // none: our batch envelope as is
  std::map<std::string, FieldMap> record_fields;  // kind -> map; a kind without one: our record as is
  std::string dedup_field = "idempotency_key";   // the batch field the platform de-duplicates on
  // envelope
  std::string cipher;                  // "" plain, aes-128-cbc, aes-256-cbc, sm4-cbc
  std::string key_from = "utf8";       // utf8 (the secret's bytes), hex, sha256, sm3 (its first key-length bytes)
  std::string iv_rule = "random-prefixed";  // fixed, random-prefixed, derived
  std::string iv_fixed;                // fixed: the IV bytes
  std::string iv_digest = "sm3";       // derived: first 16 bytes of DIGEST(secret + timestamp)
  std::string cipher_field = "data";   // the encrypted body: {"<cipher_field>": "<base64>"}
  // credentials
  std::string timestamp = "unix_ms";   // unix_ms or unix_s
  std::string signature;               // "" none, hmac-sha256, hmac-sm3, sha256, sm3
  std::string sign_string;             // canonical string: {app_id} {timestamp} {nonce} {body} {path} {secret}
  std::string sign_encoding = "hex";   // hex (lower case) or base64
  std::vector<std::pair<std::string, std::string>> headers;  // name -> template ({signature} too)
  double max_skew_s = 300;
  // acknowledgement
  std::string ack_code, ack_message, ack_batch_id;  // JSON pointers; code "": any 2xx is success
  std::vector<std::string> ack_success, ack_duplicate, ack_retry;  // any other code: fatal
  std::map<std::string, std::string> answers;  // what the mock platform answers: ok, duplicate, busy, bad_credentials, bad_body, invalid
  std::map<std::string, KindRules> rules;
};

// Loads a profile file, or a bundled one by name (profiles/uplink/*.yaml). false with
// "file:line: key 'k': why" in error (the command exits 2).
bool load_uplink_profile(const std::string& name_or_file, UplinkProfile& out, std::string& error);
bool parse_uplink_profile(const std::string& text, const std::string& file, UplinkProfile& out, std::string& error);
std::vector<std::string> bundled_uplink_profiles();

// The enterprise's credentials with the platform: a YAML file with app_id and app_secret.
struct PlatformCredentials {
  std::string app_id, app_secret;
};
bool load_credentials(const std::string& file, PlatformCredentials& out, std::string& error);

// The sender's side: one outbox batch (our envelope JSON, docs/uplink.md) -> one request.
struct PlatformRequest {
  std::string kind, path;  // path "" : this platform takes no such records (not sent)
  std::string body, content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
};
// now_ms: Unix time of the request (the timestamp header); nonce: a fresh random text. Throws
// std::runtime_error when the batch cannot be turned into a request.
PlatformRequest build_request(const UplinkProfile& p, const PlatformCredentials& c, const std::string& batch_body,
                              std::int64_t now_ms, const std::string& nonce);
// The plain body before encryption (the field map applied); for tests and benchmarks.
std::string map_batch(const UplinkProfile& p, const std::string& batch_body, std::string* kind = nullptr);

// The platform's answer to a 2xx: stored (success or its "duplicate" code), retry, or fatal.
struct Ack {
  enum class Outcome { stored, duplicate, retry, fatal } outcome = Outcome::stored;
  std::string code, message, batch_id;
};
Ack read_ack(const UplinkProfile& p, const std::string& body);

// The platform's side: checks the credentials and opens the body.
struct OpenedRequest {
  std::string outcome;  // "" opened, else bad_credentials or bad_body (an answers key)
  std::string error;    // why, for the page
  std::string kind;
  nlohmann::ordered_json payload;  // the plain body
};
OpenedRequest open_request(const UplinkProfile& p, const PlatformCredentials& c, const std::string& path,
                           const std::map<std::string, std::string>& headers, const std::string& body, std::int64_t now_ms);
// An answer in the profile's format for an answers key (ok, duplicate, busy, ...).
std::string make_ack(const UplinkProfile& p, const std::string& answer, const std::string& message, const std::string& batch_id);

// The key and IV helpers, exposed for the known-answer tests.
std::string derive_key(const UplinkProfile& p, const std::string& secret);
std::string fill_template(const std::string& tmpl, const std::map<std::string, std::string>& values);

}  // namespace planttwin::uplink

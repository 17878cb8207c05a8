// MQTT profiles (docs/mqtt.md): where a vendor's JSON payload keeps each field, and how to turn a
// payload into live-v1 messages (fix, sos, tag_status). Plain functions over plain data: no
// network, no clock (the arrival time is given), so tests and the adapter share them.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace planttwin::hil::mqtt {

enum class TimeFormat { unix_s, unix_ms, unix_us, iso8601, arrival };

struct Profile {
  std::string name;  // bundled name or the file's stem
  std::string file;  // "" for a bundled profile
  std::vector<std::string> topics;  // MQTT topic filters (wildcards + and # allowed)
  // JSON pointers (RFC 6901); "" means the field is not given
  std::string records;  // where the record(s) are in the payload ("": the payload); an array: one record each
  std::string tag, x, y, z, floor, time, valid, sos, battery;
  std::string tag_prefix;       // prepended to the tag id (vendor numbers -> site tag ids)
  double unit_scale = 1.0;      // x, y, z in the profile's unit -> metres
  std::string units = "m";
  TimeFormat time_format = TimeFormat::arrival;
  double battery_scale = 1.0;   // battery value / this = 0..1 (100 for percent)
  // optional transform into the site frame: p' = scale * R(rotate_deg) * p + translate
  bool has_transform = false;
  double rotate_deg = 0, scale = 1, dx = 0, dy = 0, dz = 0;
};

// The bundled profiles' names (pozyx, nooploop, generic).
std::vector<std::string> bundled_profiles();

// A bundled name or a YAML file. false with `error` as "FILE:LINE: key 'K': what" (exit 2).
bool load_profile(const std::string& name_or_file, Profile& out, std::string& error);
bool parse_profile(const std::string& text, const std::string& file, Profile& out, std::string& error);

// One live-v1 message (topic, body) made from a payload.
struct Converted {
  std::string topic, body;
};
// A part of the payload that could not be used: reason (live-v1 reason codes: bad_json,
// missing_field, bad_field, not_finite) and detail.
struct Rejected {
  std::string reason, detail;
};

// Turns one MQTT payload into live-v1 messages: per record a `fix` (when x and y are given and
// `valid` is not false), an `sos` (when the sos flag is true) and a `tag_status` (when a battery
// value is given). `arrival_ms` is the ts of records without a time. A record with valid == false
// is skipped and counted in `no_position`.
void convert(const Profile& p, std::string_view payload, std::int64_t arrival_ms, std::vector<Converted>& out,
             std::vector<Rejected>& rejected, std::size_t& no_position);

}  // namespace planttwin::hil::mqtt

// The live wire protocol, version 1 (docs/live-v1.md): decoding and validating input messages, and
// encoding the engine's outputs. Plain functions over plain data: no sockets, no clock, so the
// live loop, replay, tests and the fuzzer share one decoder.
//
// Validation: a message is accepted only when every check passes; a rejected one yields a reason
// (a short code) and a detail (human text) and changes nothing (docs/live-v1.md "Errors").
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "engine/inputs.h"
#include "engine/site.h"

namespace planttwin::hil {

constexpr std::size_t kMaxBodyBytes = 64 * 1024;  // larger bodies are refused (body_too_large)

// Input topics, in the spec's order.
enum class Topic { fix, range, tdoa, sos, tag_status, gate, mark, permit, ack };
const char* to_string(Topic t);
std::optional<Topic> parse_topic(std::string_view s);

struct RangeMsg {
  int tag = -1, anchor = -1;
  double d = 0, fp_dbm = 0, rx_dbm = 0;  // dBm 0: not given
};
struct TdoaMsg {
  int tag = -1, anchor_a = -1, anchor_b = -1;
  double dd = 0;  // d_b - d_a, metres
};
struct MarkMsg {
  int tag = -1;
  int point = -1;  // index into Site::survey_points
};

// An accepted message: an engine input (fix, sos, tag_status, gate, permit, ack; `input.t` left
// 0 for the caller to stamp) or a message the bridge handles itself (range, tdoa, mark).
struct Decoded {
  Topic topic = Topic::fix;
  std::int64_t ts_ms = 0;  // the device's time, Unix ms
  Input input;
  RangeMsg range;
  TdoaMsg tdoa;
  MarkMsg mark;
};

struct DecodeError {
  std::string reason;  // bad_frames, body_too_large, bad_json, bad_version, missing_field, bad_field,
                       // not_finite, unknown_topic, unknown_tag, unknown_person, unknown_anchor,
                       // unknown_point, unknown_floor, skew
  std::string detail;  // what exactly, for the vendor's log
};

// What decoding needs to know: look-ups against the engine's setup and the session's start.
struct DecodeContext {
  const Engine* engine = nullptr;  // tag, person, floor look-ups (never modified)
  const Site* site = nullptr;      // anchors, survey points, floors
  std::int64_t start_unix_ms = 0;  // t = 0 of the session: permit times given as date-times
};

// Decodes one message. Returns false and fills `err` when it is not valid; never throws.
bool decode(std::string_view topic, std::string_view body, const DecodeContext& ctx, Decoded& out, DecodeError& err);

// ---- outputs ---------------------------------------------------------------------------------

// One output message: topic and JSON body.
struct WireMessage {
  std::string topic, body;
};

// Encodes the engine's output `o` (decided at engine time o.t) for the PUB socket; `ts` is
// start_unix_ms + o.t in ms. Outputs with no topic (zone entries) give nothing.
void encode_output(const Engine& engine, const Output& o, std::int64_t start_unix_ms, std::vector<WireMessage>& out);

// `error {v, ts, reason, topic, detail}`.
WireMessage encode_error(std::int64_t ts_ms, const DecodeError& e, std::string_view topic);

// Unix ms of engine time t in a session that started at start_unix_ms (floor to the ms).
std::int64_t unix_ms(std::int64_t start_unix_ms, Micros t);

}  // namespace planttwin::hil

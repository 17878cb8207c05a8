// The engine state as bytes (issue 12; the payload of a checkpoint's ENGINE record,
// docs/checkpoint.md). Every field of EngineState is written, in declaration order, with
// engine/byte_codec.h; decoding refuses anything truncated, out of range or left over, and
// Engine::restore() then checks the state against its model. encode(decode(x)) == x and
// decode(encode(s)) == s for every state (tested).
//
// Thread-safety: functions of their arguments only.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/byte_codec.h"
#include "engine/state.h"

namespace planttwin {

// Version of the engine state's layout; a checkpoint written with another is refused.
constexpr std::uint32_t kEngineStateLayout = 2;

void save_state(const EngineState& s, ByteWriter& w);
// false (and r.fail()) on a malformed state
bool load_state(ByteReader& r, EngineState& out);

std::string encode_state(const EngineState& s);
bool decode_state(std::string_view bytes, EngineState& out, std::string& why);

}  // namespace planttwin

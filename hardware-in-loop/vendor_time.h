// ISO 8601 times as vendors send them (omlox timestamp_generated, MQTT profiles with
// time_format iso8601), with milliseconds kept.
#pragma once
#include <cstdint>
#include <string>

namespace planttwin::hil {

// "2026-03-02T01:00:00.123Z", "...+08:00" (a missing offset is UTC, as omlox requires UTC) -> Unix ms.
bool parse_iso8601_ms(const std::string& s, std::int64_t& unix_ms);
// Unix ms -> "2026-03-02T01:00:00.123Z".
std::string iso8601_utc_ms(std::int64_t unix_ms);

}  // namespace planttwin::hil

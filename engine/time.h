// Engine time: integer microseconds since the scenario's start (DESIGN.md section 3).
// The engine never reads a clock; wall-clock facts (local time for schedules, nights and holidays)
// come from the scenario's start, which is an input.
//
// Thread-safety: pure functions of their arguments.
#pragma once
#include <cstdint>
#include <string>

namespace planttwin {

using Micros = std::int64_t;
constexpr Micros kMillisecond = 1000;
constexpr Micros kSecond = 1000 * kMillisecond;
constexpr Micros kMinute = 60 * kSecond;
constexpr Micros kHour = 60 * kMinute;
constexpr Micros kDay = 24 * kHour;

inline double to_seconds(Micros t) { return static_cast<double>(t) / static_cast<double>(kSecond); }
inline Micros from_seconds(double s) {
  return static_cast<Micros>(s * static_cast<double>(kSecond) + (s >= 0 ? 0.5 : -0.5));
}

// Wall-clock anchor of t = 0: Unix seconds (UTC) and the UTC offset that local time uses.
struct WallClock {
  std::int64_t start_unix_s = 1767571200;  // 2026-01-05T08:00:00+08:00, a Monday
  int utc_offset_min = 8 * 60;
};

// Local calendar facts at engine time t.
struct LocalTime {
  std::int64_t days_since_epoch = 0;  // local civil day number (1970-01-01 = 0)
  int weekday = 0;                    // 0 = Monday ... 6 = Sunday
  int minute_of_day = 0;              // 0 .. 1439
  int second_of_day = 0;              // 0 .. 86399
  int year = 1970, month = 1, day = 1;
};

LocalTime local_time(const WallClock& clock, Micros t);

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
std::int64_t days_from_civil(int y, int m, int d);
void civil_from_days(std::int64_t z, int& y, int& m, int& d);

// "2026-03-02" -> day number; returns false on a malformed date.
bool parse_date(const std::string& s, std::int64_t& days_out);
// ISO 8601 date-time with offset ("2026-03-02T08:00:00+08:00", "...Z"): Unix seconds and offset.
bool parse_datetime(const std::string& s, std::int64_t& unix_s, int& offset_min);
// "HH:MM" -> minute of day (24:00 allowed as 1440).
bool parse_clock(const std::string& s, int& minute_of_day);
// "+08:00" -> minutes.
bool parse_utc_offset(const std::string& s, int& minutes);
// Durations as the specs write them: a number of seconds, or "250ms", "90s", "5min", "2h", "1d".
bool parse_duration(const std::string& s, Micros& out);

}  // namespace planttwin

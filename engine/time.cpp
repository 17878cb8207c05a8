#include "engine/time.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace planttwin {

// Howard Hinnant's civil calendar algorithms (public domain), exact for the proleptic Gregorian
// calendar; no time zone database or host clock involved.
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(m + (m > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

LocalTime local_time(const WallClock& clock, Micros t) {
  // floor division so that negative times still map to the right day
  std::int64_t local_s = clock.start_unix_s + static_cast<std::int64_t>(clock.utc_offset_min) * 60;
  std::int64_t ts = t >= 0 ? t / kSecond : -((-t + kSecond - 1) / kSecond);
  local_s += ts;
  std::int64_t days = local_s >= 0 ? local_s / 86400 : -((-local_s + 86399) / 86400);
  const int sod = static_cast<int>(local_s - days * 86400);
  LocalTime lt;
  lt.days_since_epoch = days;
  lt.second_of_day = sod;
  lt.minute_of_day = sod / 60;
  // 1970-01-01 was a Thursday (weekday 3 with Monday = 0)
  lt.weekday = static_cast<int>(((days % 7) + 7 + 3) % 7);
  civil_from_days(days, lt.year, lt.month, lt.day);
  return lt;
}

namespace {
bool read_int(const std::string& s, size_t& i, int digits, int& out) {
  if (i + static_cast<size_t>(digits) > s.size()) return false;
  int v = 0;
  for (int k = 0; k < digits; ++k) {
    const char c = s[i + static_cast<size_t>(k)];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  i += static_cast<size_t>(digits);
  out = v;
  return true;
}
bool valid_ymd(int y, int m, int d) {
  if (m < 1 || m > 12 || d < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int md = kDays[m - 1];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) md = 29;
  return d <= md;
}
}  // namespace

bool parse_date(const std::string& s, std::int64_t& days_out) {
  size_t i = 0;
  int y, m, d;
  if (!read_int(s, i, 4, y) || i >= s.size() || s[i++] != '-' || !read_int(s, i, 2, m) || i >= s.size() ||
      s[i++] != '-' || !read_int(s, i, 2, d) || i != s.size())
    return false;
  if (!valid_ymd(y, m, d)) return false;
  days_out = days_from_civil(y, m, d);
  return true;
}

bool parse_utc_offset(const std::string& s, int& minutes) {
  if (s == "Z" || s == "z") {
    minutes = 0;
    return true;
  }
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return false;
  size_t i = 1;
  int h, m;
  if (!read_int(s, i, 2, h)) return false;
  i = 4;
  if (!read_int(s, i, 2, m)) return false;
  if (h > 14 || m > 59) return false;
  minutes = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
  return true;
}

bool parse_datetime(const std::string& s, std::int64_t& unix_s, int& offset_min) {
  // YYYY-MM-DDTHH:MM[:SS[.fff]](Z|+HH:MM)
  if (s.size() < 17) return false;
  std::int64_t days;
  if (!parse_date(s.substr(0, 10), days)) return false;
  if (s[10] != 'T' && s[10] != ' ') return false;
  size_t i = 11;
  int hh, mm, ss = 0;
  if (!read_int(s, i, 2, hh) || i >= s.size() || s[i++] != ':' || !read_int(s, i, 2, mm)) return false;
  if (i < s.size() && s[i] == ':') {
    ++i;
    if (!read_int(s, i, 2, ss)) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;  // sub-second: dropped
    }
  }
  if (hh > 23 || mm > 59 || ss > 60) return false;
  if (!parse_utc_offset(s.substr(i), offset_min)) return false;
  unix_s = days * 86400 + hh * 3600 + mm * 60 + ss - static_cast<std::int64_t>(offset_min) * 60;
  return true;
}

bool parse_clock(const std::string& s, int& minute_of_day) {
  size_t i = 0;
  int h, m;
  if (s.size() == 4 && s[1] == ':') {  // "8:00"
    if (!read_int(s, i, 1, h)) return false;
  } else if (!read_int(s, i, 2, h)) {
    return false;
  }
  if (i >= s.size() || s[i++] != ':' || !read_int(s, i, 2, m) || i != s.size()) return false;
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return false;
  minute_of_day = h * 60 + m;
  return true;
}

bool parse_duration(const std::string& raw, Micros& out) {
  std::string s;
  for (char c : raw)
    if (!std::isspace(static_cast<unsigned char>(c))) s.push_back(c);
  if (s.empty()) return false;
  size_t k = 0;
  while (k < s.size() && (std::isdigit(static_cast<unsigned char>(s[k])) || s[k] == '.' || s[k] == '-' || s[k] == '+'))
    ++k;
  const std::string num = s.substr(0, k), unit = s.substr(k);
  if (num.empty() || num == "-" || num == "+" || num == ".") return false;
  char* end = nullptr;
  const double v = std::strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size() || !std::isfinite(v) || v < 0) return false;
  double scale;
  if (unit.empty() || unit == "s") scale = 1.0;
  else if (unit == "ms") scale = 1e-3;
  else if (unit == "min") scale = 60.0;
  else if (unit == "h") scale = 3600.0;
  else if (unit == "d") scale = 86400.0;
  else return false;
  const double secs = v * scale;
  if (secs > 1e9) return false;
  out = from_seconds(secs);
  return true;
}

}  // namespace planttwin

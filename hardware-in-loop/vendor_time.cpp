#include "hardware-in-loop/vendor_time.h"

#include <cctype>
#include <cstdio>

#include "engine/time.h"

namespace planttwin::hil {

bool parse_iso8601_ms(const std::string& s, std::int64_t& unix_ms) {
  // the fraction is read here (parse_datetime drops it); the rest is parse_datetime's
  std::string rest = s;
  int ms = 0;
  const std::size_t dot = s.size() > 19 && s[19] == '.' ? 19 : std::string::npos;
  if (dot != std::string::npos) {
    std::size_t i = dot + 1;
    int digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (digits < 3) ms = ms * 10 + (s[i] - '0');
      ++digits, ++i;
    }
    if (digits == 0) return false;
    for (int d = digits; d < 3; ++d) ms *= 10;
    rest = s.substr(0, dot) + s.substr(i);
  }
  if (rest.size() == 19) rest += "Z";  // no offset: UTC
  std::int64_t unix_s = 0;
  int offset = 0;
  if (!parse_datetime(rest, unix_s, offset)) return false;
  unix_ms = unix_s * 1000 + ms;
  return true;
}

std::string iso8601_utc_ms(std::int64_t unix_ms) {
  std::int64_t s = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  const int ms = static_cast<int>(unix_ms - s * 1000);
  std::int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
  const int sod = static_cast<int>(s - days * 86400);
  int y, m, d;
  civil_from_days(days, y, m, d);
  char b[40];
  std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, sod / 3600, sod / 60 % 60, sod % 60, ms);
  return b;
}

}  // namespace planttwin::hil

#include "engine/site.h"

#include <algorithm>

namespace planttwin {

const char* to_string(ZoneKind k) {
  switch (k) {
    case ZoneKind::production: return "production";
    case ZoneKind::storage: return "storage";
    case ZoneKind::loading: return "loading";
    case ZoneKind::high_risk: return "high_risk";
    case ZoneKind::major_hazard: return "major_hazard";
    case ZoneKind::office: return "office";
    case ZoneKind::gate: return "gate";
    case ZoneKind::other: return "other";
  }
  return "other";
}

const char* to_string(Risk r) {
  switch (r) {
    case Risk::none: return "";
    case Risk::red: return "red";
    case Risk::orange: return "orange";
    case Risk::yellow: return "yellow";
    case Risk::blue: return "blue";
  }
  return "";
}

const char* to_string(Category c) {
  switch (c) {
    case Category::employee: return "employee";
    case Category::contractor: return "contractor";
    case Category::visitor: return "visitor";
    case Category::driver: return "driver";
  }
  return "employee";
}

const char* aq3_code(Category c) {
  switch (c) {
    case Category::employee: return "01";
    case Category::contractor: return "02";
    default: return "03";
  }
}

Rules Rules::defaults() {
  Rules r;
  r.validity["hot_work"] = {{"special", 8 * kHour}, {"1", 8 * kHour}, {"2", 72 * kHour}};
  r.validity["confined_space"] = {{"", 24 * kHour}};
  r.validity["height"] = {{"", 7 * kDay}};
  r.validity["temp_power"] = {{"", 15 * kDay}};
  r.pause_reanalysis["hot_work"] = {{"special", 30 * kMinute}, {"1", 30 * kMinute}, {"2", 60 * kMinute}};
  r.pause_reanalysis["confined_space"] = {{"", 60 * kMinute}};
  r.pause_reanalysis["temp_power"] = {{"", 60 * kMinute}};
  r.certificates["hot_work"] = {{"workers", "welding"}};
  r.certificates["temp_power"] = {{"workers", "electrician"}};
  r.certificates["guardian"] = {{"", "guardian"}};
  return r;
}

bool Calendar::is_holiday(std::int64_t day) const {
  return std::find(holidays.begin(), holidays.end(), day) != holidays.end();
}

bool Calendar::is_workday(std::int64_t day, int weekday) const {
  if (is_holiday(day)) return false;
  if (std::find(workdays.begin(), workdays.end(), day) != workdays.end()) return true;
  return ((rest_days >> weekday) & 1) == 0;
}

bool Calendar::is_night(int m) const {
  if (night_from_min == night_to_min) return false;
  if (night_from_min < night_to_min) return m >= night_from_min && m < night_to_min;
  return m >= night_from_min || m < night_to_min;
}

std::vector<std::string> Site::floor_ids() const {
  std::vector<std::string> ids;
  auto add = [&](const std::string& id) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  };
  for (const Floor& f : floors) add(f.id);
  for (const Building& b : buildings)
    for (const Floor& f : b.floors) add(f.id);
  return ids;
}

bool Site::has_floor(const std::string& id) const { return find_floor(id) != nullptr; }

const Floor* Site::find_floor(const std::string& id) const {
  for (const Floor& f : floors)
    if (f.id == id) return &f;
  for (const Building& b : buildings)
    for (const Floor& f : b.floors)
      if (f.id == id) return &f;
  return nullptr;
}

namespace {
bool day_matches(const ScheduleWindow& w, const Calendar& cal, std::int64_t day, int weekday) {
  if ((w.days >> weekday) & 1) return true;
  const bool work = cal.is_workday(day, weekday);
  return (w.on_workdays && work) || (w.on_rest_days && !work);
}
}  // namespace

bool schedule_active(const std::vector<ScheduleWindow>& schedule, const Calendar& cal, const LocalTime& lt) {
  if (schedule.empty()) return true;
  const int m = lt.minute_of_day;
  const int yesterday_wd = (lt.weekday + 6) % 7;
  for (const ScheduleWindow& w : schedule) {
    if (w.from_min <= w.to_min) {
      if (m >= w.from_min && m < w.to_min && day_matches(w, cal, lt.days_since_epoch, lt.weekday)) return true;
    } else {  // spans midnight: the evening belongs to today, the early morning to yesterday's window
      if (m >= w.from_min && day_matches(w, cal, lt.days_since_epoch, lt.weekday)) return true;
      if (m < w.to_min && day_matches(w, cal, lt.days_since_epoch - 1, yesterday_wd)) return true;
    }
  }
  return false;
}

}  // namespace planttwin

// The engine's words as types (issue 12, "typed vocabulary"): alarm types, alarm levels and the
// AQ 3064.2 Table A.4 special-work codes. Inside the engine they travel as enums; their strings
// (scenario-v1, live-v1, report and history names) and Chinese names live in one table each, in
// vocabulary.cpp, and are used only at the edges: the loader, the wire decoder and encoder, the
// reports and the history store.
//
// Thread-safety: constant tables, safe from any thread.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace planttwin {

// scenario-v1 "Alarms" TYPE, in the order reports list them.
enum class AlarmType : std::uint8_t {
  gathering,
  over_capacity,
  under_staffing,
  boundary_crossing,
  stationary,
  overstay,
  sos,
  tag_offline,
  low_battery,
  untagged_entry,
  unacknowledged,
  guardian_absent,
  unauthorized_in_work_area,
  work_without_permit,
  approver_not_on_site,
  permit_expired,
  gas_analysis_missing,
  gas_analysis_stale,
  reanalysis_required,
  daily_analysis_missing,
  gas_record_overdue,
  gas_over_limit,
  hot_work_not_upgraded,
  certificate_missing,
  certificate_expired,
  certificate_mismatch,
  linked_permit_missing,
  permit_not_linked,
  blind_plate_both,
  no_briefing,
  no_risk_analysis,
  measures_not_confirmed,
  reservation_not_approved,
  validity_too_long,
};
constexpr std::size_t kAlarmTypeCount = static_cast<std::size_t>(AlarmType::validity_too_long) + 1;

// Alarm levels; the value is the rank (red highest). `none` only before a level is known.
enum class AlarmLevel : std::uint8_t { none = 0, blue = 1, yellow = 2, orange = 3, red = 4 };

// AQ 3064.2 Table A.4 codes ("01" .. "90"); none for alarms without a code.
enum class Aq2Code : std::uint8_t {
  none,
  c01, c02, c03, c04, c05, c10, c20, c30, c31, c40, c41, c42, c43,
  c50, c51, c52, c60, c61, c62, c70, c80, c90,
};
constexpr std::size_t kAq2CodeCount = static_cast<std::size_t>(Aq2Code::c90) + 1;

// Every alarm type, in report order.
const std::array<AlarmType, kAlarmTypeCount>& all_alarm_types();
const char* to_string(AlarmType t);     // "gathering"
const char* zh(AlarmType t);            // "人员聚集"
bool parse_alarm_type(std::string_view s, AlarmType& out);

const char* to_string(AlarmLevel l);    // "red"; "" for none
const char* zh(AlarmLevel l);           // "红"; "" for none
bool parse_alarm_level(std::string_view s, AlarmLevel& out);  // red, orange, yellow, blue
inline int rank(AlarmLevel l) { return static_cast<int>(l); }

// The codes with a meaning (none excluded), in table order, each with its alarm type.
struct Aq2CodeInfo {
  Aq2Code code;
  const char* text;  // "01"
  AlarmType type;
};
const std::array<Aq2CodeInfo, kAq2CodeCount - 1>& aq2_alarm_codes();
const char* to_string(Aq2Code c);  // "01"; "" for none
bool parse_aq2_code(std::string_view s, Aq2Code& out);  // "01" .. "90"; "" is not a code
AlarmType alarm_type_of(Aq2Code c);  // the type a code raises (c must not be none)

// JSON at the edges (nlohmann finds these by argument-dependent lookup): an enum is written as its
// name, never as a number. Generic so that the engine does not depend on the JSON library.
template <class Json>
void to_json(Json& j, AlarmType t) {
  j = to_string(t);
}
template <class Json>
void to_json(Json& j, AlarmLevel l) {
  j = to_string(l);
}
template <class Json>
void to_json(Json& j, Aq2Code c) {
  j = to_string(c);
}

}  // namespace planttwin

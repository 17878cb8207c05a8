// The words of a special-work command (scenario-v1 "Special work", live-v1 topic `permit`), in one
// place for every reader of permit commands: the scenario loader (YAML) and the live decoder
// (JSON) take their allowed values and required fields from here, so the two cannot drift apart
// (tests/hil: PermitVocabulary.*).
//
// Thread-safety: constant tables.
#pragma once
#include <string>
#include <vector>

namespace planttwin::permit_vocabulary {

inline const std::vector<std::string>& actions() {
  static const std::vector<std::string> v = {
      "reserve", "approve_reservation", "reject_reservation", "apply", "risk_analysis", "confirm_measures",
      "gas",     "approve",             "brief",              "start", "pause",         "resume",
      "handover", "accept",             "revoke",             "void"};
  return v;
}

// GB 30871-2022: the eight kinds of special work
inline const std::vector<std::string>& types() {
  static const std::vector<std::string> v = {"hot_work", "confined_space", "blind_plate", "height",
                                             "lifting",  "temp_power",     "excavation",  "road_break"};
  return v;
}

// hot work: special, 1, 2; height: I .. IV; lifting: 1 .. 3
inline const std::vector<std::string>& grades() {
  static const std::vector<std::string> v = {"special", "1", "2", "3", "I", "II", "III", "IV"};
  return v;
}

inline const std::vector<std::string>& blind_operations() {
  static const std::vector<std::string> v = {"insert", "remove", "both"};
  return v;
}

// keys of `readings` (gas analysis); `toxic` maps a substance to ppm
inline const std::vector<std::string>& reading_keys() {
  static const std::vector<std::string> v = {"flammable_volpct", "gas_lel_pct", "o2_volpct", "toxic"};
  return v;
}

// every field a command may carry
inline const std::vector<std::string>& fields() {
  static const std::vector<std::string> v = {
      "action", "id",       "by",          "reservation", "type",     "grade",          "area",  "floor",
      "workers", "guardian", "approver",   "linked",      "from",     "to",             "urgent", "load_t",
      "height_m", "hazard_factors", "blind", "readings",  "signed_by", "note"};
  return v;
}

// The fields a command cannot do without, besides `action` and `id`.
inline std::vector<std::string> required_fields(const std::string& action) {
  if (action == "reserve") return {"type", "area", "from", "to"};
  if (action == "apply") return {"type", "area", "workers", "guardian", "approver", "from", "to"};
  if (action == "gas") return {"by", "readings"};
  if (action == "approve") return {"by"};
  if (action == "brief") return {"signed_by"};
  if (action == "handover") return {"guardian"};
  return {};
}

}  // namespace planttwin::permit_vocabulary

#include "engine/vocabulary.h"

namespace planttwin {

namespace {

struct TypeInfo {
  AlarmType type;
  const char* name;
  const char* zh;
};
// One row per AlarmType, in enum order (checked by tests/engine/vocabulary_test.cpp).
constexpr TypeInfo kTypes[kAlarmTypeCount] = {
    {AlarmType::gathering, "gathering", "人员聚集"},
    {AlarmType::over_capacity, "over_capacity", "超员"},
    {AlarmType::under_staffing, "under_staffing", "缺员"},
    {AlarmType::boundary_crossing, "boundary_crossing", "越界"},
    {AlarmType::stationary, "stationary", "静止（疑似倒地）"},
    {AlarmType::overstay, "overstay", "滞留超时"},
    {AlarmType::sos, "sos", "一键报警"},
    {AlarmType::tag_offline, "tag_offline", "定位卡离线"},
    {AlarmType::low_battery, "low_battery", "定位卡低电量"},
    {AlarmType::untagged_entry, "untagged_entry", "未带卡入厂"},
    {AlarmType::unacknowledged, "unacknowledged", "报警未确认"},
    {AlarmType::guardian_absent, "guardian_absent", "监护人离开"},
    {AlarmType::unauthorized_in_work_area, "unauthorized_in_work_area", "非作业人员进入作业区"},
    {AlarmType::work_without_permit, "work_without_permit", "无票作业"},
    {AlarmType::approver_not_on_site, "approver_not_on_site", "审批人不在现场"},
    {AlarmType::permit_expired, "permit_expired", "作业票超期"},
    {AlarmType::gas_analysis_missing, "gas_analysis_missing", "未进行气体分析"},
    {AlarmType::gas_analysis_stale, "gas_analysis_stale", "气体分析超时"},
    {AlarmType::reanalysis_required, "reanalysis_required", "中断后未重新分析"},
    {AlarmType::daily_analysis_missing, "daily_analysis_missing", "未进行当日气体分析"},
    {AlarmType::gas_record_overdue, "gas_record_overdue", "受限空间气体未按时记录"},
    {AlarmType::gas_over_limit, "gas_over_limit", "气体分析不合格"},
    {AlarmType::hot_work_not_upgraded, "hot_work_not_upgraded", "动火作业未升级管理"},
    {AlarmType::certificate_missing, "certificate_missing", "无资格证书"},
    {AlarmType::certificate_expired, "certificate_expired", "证书过期"},
    {AlarmType::certificate_mismatch, "certificate_mismatch", "人证不符"},
    {AlarmType::linked_permit_missing, "linked_permit_missing", "关联作业票缺失"},
    {AlarmType::permit_not_linked, "permit_not_linked", "作业票未关联"},
    {AlarmType::blind_plate_both, "blind_plate_both", "一票同时抽堵盲板"},
    {AlarmType::no_briefing, "no_briefing", "未进行安全交底"},
    {AlarmType::no_risk_analysis, "no_risk_analysis", "未进行风险分析"},
    {AlarmType::measures_not_confirmed, "measures_not_confirmed", "安全措施未确认"},
    {AlarmType::reservation_not_approved, "reservation_not_approved", "作业预约未批准"},
    {AlarmType::validity_too_long, "validity_too_long", "作业票有效期超限"},
};

constexpr std::array<Aq2CodeInfo, kAq2CodeCount - 1> kCodes = {{
    {Aq2Code::c01, "01", AlarmType::gas_analysis_missing},
    {Aq2Code::c02, "02", AlarmType::gas_analysis_stale},
    {Aq2Code::c03, "03", AlarmType::reanalysis_required},
    {Aq2Code::c04, "04", AlarmType::daily_analysis_missing},
    {Aq2Code::c05, "05", AlarmType::gas_record_overdue},
    {Aq2Code::c10, "10", AlarmType::permit_expired},
    {Aq2Code::c20, "20", AlarmType::blind_plate_both},
    {Aq2Code::c30, "30", AlarmType::approver_not_on_site},
    {Aq2Code::c31, "31", AlarmType::guardian_absent},
    {Aq2Code::c40, "40", AlarmType::hot_work_not_upgraded},
    {Aq2Code::c41, "41", AlarmType::hot_work_not_upgraded},
    {Aq2Code::c42, "42", AlarmType::hot_work_not_upgraded},
    {Aq2Code::c43, "43", AlarmType::hot_work_not_upgraded},
    {Aq2Code::c50, "50", AlarmType::certificate_missing},
    {Aq2Code::c51, "51", AlarmType::certificate_expired},
    {Aq2Code::c52, "52", AlarmType::certificate_mismatch},
    {Aq2Code::c60, "60", AlarmType::work_without_permit},
    {Aq2Code::c61, "61", AlarmType::linked_permit_missing},
    {Aq2Code::c62, "62", AlarmType::permit_not_linked},
    {Aq2Code::c70, "70", AlarmType::no_briefing},
    {Aq2Code::c80, "80", AlarmType::no_risk_analysis},
    {Aq2Code::c90, "90", AlarmType::measures_not_confirmed},
}};

}  // namespace

const std::array<AlarmType, kAlarmTypeCount>& all_alarm_types() {
  static const std::array<AlarmType, kAlarmTypeCount> kAll = [] {
    std::array<AlarmType, kAlarmTypeCount> a{};
    for (std::size_t i = 0; i < kAlarmTypeCount; ++i) a[i] = kTypes[i].type;
    return a;
  }();
  return kAll;
}

const char* to_string(AlarmType t) {
  const auto i = static_cast<std::size_t>(t);
  return i < kAlarmTypeCount ? kTypes[i].name : "";
}

const char* zh(AlarmType t) {
  const auto i = static_cast<std::size_t>(t);
  return i < kAlarmTypeCount ? kTypes[i].zh : "";
}

bool parse_alarm_type(std::string_view s, AlarmType& out) {
  for (const TypeInfo& t : kTypes)
    if (s == t.name) {
      out = t.type;
      return true;
    }
  return false;
}

const char* to_string(AlarmLevel l) {
  switch (l) {
    case AlarmLevel::red: return "red";
    case AlarmLevel::orange: return "orange";
    case AlarmLevel::yellow: return "yellow";
    case AlarmLevel::blue: return "blue";
    case AlarmLevel::none: break;
  }
  return "";
}

const char* zh(AlarmLevel l) {
  switch (l) {
    case AlarmLevel::red: return "红";
    case AlarmLevel::orange: return "橙";
    case AlarmLevel::yellow: return "黄";
    case AlarmLevel::blue: return "蓝";
    case AlarmLevel::none: break;
  }
  return "";
}

bool parse_alarm_level(std::string_view s, AlarmLevel& out) {
  for (AlarmLevel l : {AlarmLevel::red, AlarmLevel::orange, AlarmLevel::yellow, AlarmLevel::blue})
    if (s == to_string(l)) {
      out = l;
      return true;
    }
  return false;
}

const std::array<Aq2CodeInfo, kAq2CodeCount - 1>& aq2_alarm_codes() { return kCodes; }

const char* to_string(Aq2Code c) {
  for (const Aq2CodeInfo& i : kCodes)
    if (i.code == c) return i.text;
  return "";
}

bool parse_aq2_code(std::string_view s, Aq2Code& out) {
  for (const Aq2CodeInfo& i : kCodes)
    if (s == i.text) {
      out = i.code;
      return true;
    }
  return false;
}

AlarmType alarm_type_of(Aq2Code c) {
  for (const Aq2CodeInfo& i : kCodes)
    if (i.code == c) return i.type;
  return AlarmType::gathering;  // not reached for a real code
}

}  // namespace planttwin

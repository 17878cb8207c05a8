#include "engine/alarm.h"

#include <algorithm>
#include <map>

namespace planttwin {

const char* to_string(AlarmEventKind k) {
  switch (k) {
    case AlarmEventKind::raised: return "raised";
    case AlarmEventKind::escalated: return "escalated";
    case AlarmEventKind::cleared: return "cleared";
    case AlarmEventKind::acknowledged: return "acknowledged";
    case AlarmEventKind::handled: return "handled";
    case AlarmEventKind::closed: return "closed";
  }
  return "raised";
}

bool parse_alarm_event(const std::string& s, AlarmEventKind& out) {
  for (auto k : {AlarmEventKind::raised, AlarmEventKind::escalated, AlarmEventKind::cleared,
                 AlarmEventKind::acknowledged, AlarmEventKind::handled, AlarmEventKind::closed})
    if (s == to_string(k)) {
      out = k;
      return true;
    }
  return false;
}

const char* Alarm::handling_status() const {
  if (closed_at) return "closed";
  if (handled_at) return "handled";
  if (acknowledged_at) return "acknowledged";
  return "raised";
}

namespace {
struct TypeInfo {
  const char* type;
  const char* zh;
};
const TypeInfo kTypes[] = {
    {"gathering", "人员聚集"},
    {"over_capacity", "超员"},
    {"under_staffing", "缺员"},
    {"boundary_crossing", "越界"},
    {"stationary", "静止（疑似倒地）"},
    {"overstay", "滞留超时"},
    {"sos", "一键报警"},
    {"tag_offline", "定位卡离线"},
    {"low_battery", "定位卡低电量"},
    {"untagged_entry", "未带卡入厂"},
    {"unacknowledged", "报警未确认"},
    {"guardian_absent", "监护人离开"},
    {"unauthorized_in_work_area", "非作业人员进入作业区"},
    {"work_without_permit", "无票作业"},
    {"approver_not_on_site", "审批人不在现场"},
    {"permit_expired", "作业票超期"},
    {"gas_analysis_missing", "未进行气体分析"},
    {"gas_analysis_stale", "气体分析超时"},
    {"reanalysis_required", "中断后未重新分析"},
    {"daily_analysis_missing", "未进行当日气体分析"},
    {"gas_record_overdue", "受限空间气体未按时记录"},
    {"gas_over_limit", "气体分析不合格"},
    {"hot_work_not_upgraded", "动火作业未升级管理"},
    {"certificate_missing", "无资格证书"},
    {"certificate_expired", "证书过期"},
    {"certificate_mismatch", "人证不符"},
    {"linked_permit_missing", "关联作业票缺失"},
    {"permit_not_linked", "作业票未关联"},
    {"blind_plate_both", "一票同时抽堵盲板"},
    {"no_briefing", "未进行安全交底"},
    {"no_risk_analysis", "未进行风险分析"},
    {"measures_not_confirmed", "安全措施未确认"},
    {"reservation_not_approved", "作业预约未批准"},
    {"validity_too_long", "作业票有效期超限"},
};
}  // namespace

const std::vector<std::string>& alarm_types() {
  static const std::vector<std::string> kAll = [] {
    std::vector<std::string> v;
    for (const TypeInfo& t : kTypes) v.emplace_back(t.type);
    return v;
  }();
  return kAll;
}

bool is_alarm_type(const std::string& s) {
  const auto& all = alarm_types();
  return std::find(all.begin(), all.end(), s) != all.end();
}

const char* alarm_type_zh(const std::string& type) {
  for (const TypeInfo& t : kTypes)
    if (type == t.type) return t.zh;
  return "";
}

const std::vector<std::pair<std::string, std::string>>& aq2_alarm_codes() {
  static const std::vector<std::pair<std::string, std::string>> kCodes = {
      {"01", "gas_analysis_missing"},   {"02", "gas_analysis_stale"},     {"03", "reanalysis_required"},
      {"04", "daily_analysis_missing"}, {"05", "gas_record_overdue"},     {"10", "permit_expired"},
      {"20", "blind_plate_both"},       {"30", "approver_not_on_site"},   {"31", "guardian_absent"},
      {"40", "hot_work_not_upgraded"},  {"41", "hot_work_not_upgraded"},  {"42", "hot_work_not_upgraded"},
      {"43", "hot_work_not_upgraded"},  {"50", "certificate_missing"},    {"51", "certificate_expired"},
      {"52", "certificate_mismatch"},   {"60", "work_without_permit"},    {"61", "linked_permit_missing"},
      {"62", "permit_not_linked"},      {"70", "no_briefing"},            {"80", "no_risk_analysis"},
      {"90", "measures_not_confirmed"}};
  return kCodes;
}

const char* alarm_type_of_code(const std::string& code) {
  for (const auto& [c, type] : aq2_alarm_codes())
    if (c == code) return type.c_str();
  return "";
}

int level_rank(const std::string& level) {
  if (level == "red") return 4;
  if (level == "orange") return 3;
  if (level == "yellow") return 2;
  if (level == "blue") return 1;
  return 0;
}

const char* level_zh(const std::string& level) {
  if (level == "red") return "红";
  if (level == "orange") return "橙";
  if (level == "yellow") return "黄";
  if (level == "blue") return "蓝";
  return "";
}

}  // namespace planttwin

#include "viewer/drill.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace planttwin::viewer {

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::pass: return "pass";
    case Verdict::late: return "late";
    case Verdict::missed: return "missed";
    case Verdict::not_due: return "not_due";
  }
  return "?";
}

const char* verdict_zh(Verdict v) {
  switch (v) {
    case Verdict::pass: return "及时";
    case Verdict::late: return "超时";
    case Verdict::missed: return "遗漏";
    case Verdict::not_due: return "未到期";
  }
  return "?";
}

DrillGoals drill_targets(const Scenario& sc) {
  DrillGoals g;
  g.ack = sc.drill.ack.value_or(sc.site.rules.ack_within);
  if (sc.drill.handle) g.handle = *sc.drill.handle;
  return g;
}

Verdict judge(std::optional<Micros> done_after, Micros target, Micros raised_at, Micros ended_at) {
  if (done_after) return *done_after <= target ? Verdict::pass : Verdict::late;
  return ended_at - raised_at > target ? Verdict::missed : Verdict::not_due;
}

namespace {

int part_points(Verdict v) { return v == Verdict::pass ? 50 : v == Verdict::late ? 25 : 0; }

std::string secs(Micros t) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", to_seconds(t));
  std::string s = b;
  // 12.000 -> 12, 12.500 -> 12.5
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

DrillScore score_drill(const Scenario& sc, const AlarmLog& alarms, Micros ended_at) {
  DrillScore s;
  s.scenario = sc.name;
  std::set<std::string> duty;
  for (const DutyShift& d : sc.duty) duty.insert(d.person);
  for (const std::string& d : duty) s.duty += (s.duty.empty() ? "" : ",") + d;
  s.ended_at = ended_at;
  const DrillGoals g = drill_targets(sc);
  s.ack_target = g.ack;
  s.handle_target = g.handle;
  double sum = 0;
  int n = 0;
  for (const Alarm& a : alarms) {
    if (a.raised_at > ended_at) continue;
    if (a.type == AlarmType::unacknowledged) {
      ++s.escalations;
      continue;
    }
    if (a.routed_to.empty() || !duty.count(a.routed_to)) continue;
    ScoredAlarm x;
    x.id = a.id;
    x.type = a.type;
    x.level = a.level;
    x.routed_to = a.routed_to;
    x.who = a.who;
    x.zone = a.zone;
    x.raised_at = a.raised_at;
    for (const AlarmEvent& e : a.events) {
      if (e.t > ended_at) continue;
      if (e.kind == AlarmEventKind::acknowledged && !x.ack_delay) x.ack_delay = e.t - a.raised_at, x.ack_by = e.by;
      if (e.kind == AlarmEventKind::handled && !x.handle_delay) x.handle_delay = e.t - a.raised_at, x.handle_by = e.by;
    }
    x.ack = judge(x.ack_delay, g.ack, a.raised_at, ended_at);
    x.handle = judge(x.handle_delay, g.handle, a.raised_at, ended_at);
    int possible = 0, earned = 0;
    for (Verdict v : {x.ack, x.handle}) {
      if (v == Verdict::not_due) continue;
      possible += 50;
      earned += part_points(v);
      if (v == Verdict::pass) ++s.passed;
      if (v == Verdict::late) ++s.late, s.all_on_time = false;
      if (v == Verdict::missed) ++s.missed, s.all_on_time = false;
    }
    x.scored = possible > 0;
    x.points = possible ? 100.0 * earned / possible : 0;
    if (x.scored) sum += x.points, ++n;
    s.alarms.push_back(std::move(x));
  }
  s.total = n ? sum / n : 100;
  return s;
}

std::string drill_json(const DrillScore& s) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["format"] = "planttwin-drill-v1";
  j["scenario"] = s.scenario;
  j["duty"] = s.duty;
  j["ended_at"] = to_seconds(s.ended_at);
  j["targets"] = {{"ack", to_seconds(s.ack_target)}, {"handle", to_seconds(s.handle_target)}};
  j["total"] = std::round(s.total * 10) / 10;
  j["all_on_time"] = s.all_on_time;
  j["counts"] = {{"alarms", s.alarms.size()}, {"pass", s.passed}, {"late", s.late}, {"missed", s.missed}, {"escalations", s.escalations}};
  j["operator_actions"] = s.operator_actions;
  ordered_json arr = ordered_json::array();
  ordered_json missed = ordered_json::array();
  for (const ScoredAlarm& a : s.alarms) {
    ordered_json x;
    x["id"] = a.id;
    x["type"] = a.type;
    x["type_zh"] = zh(a.type);
    x["level"] = a.level;
    x["who"] = a.who;
    x["zone"] = a.zone;
    x["routed_to"] = a.routed_to;
    x["raised_at"] = to_seconds(a.raised_at);
    x["ack"] = {{"delay", a.ack_delay ? ordered_json(to_seconds(*a.ack_delay)) : ordered_json(nullptr)},
                {"by", a.ack_by}, {"verdict", to_string(a.ack)}};
    x["handle"] = {{"delay", a.handle_delay ? ordered_json(to_seconds(*a.handle_delay)) : ordered_json(nullptr)},
                   {"by", a.handle_by}, {"verdict", to_string(a.handle)}};
    x["points"] = std::round(a.points * 10) / 10;
    x["scored"] = a.scored;
    arr.push_back(x);
    if (a.ack == Verdict::missed || a.handle == Verdict::missed) missed.push_back(a.id);
  }
  j["alarms"] = arr;
  j["missed_alarms"] = missed;
  return j.dump(2) + "\n";
}

std::string drill_markdown(const DrillScore& s) {
  std::ostringstream o;
  char total[32];
  std::snprintf(total, sizeof total, "%.1f", s.total);
  o << "# 应急演练成绩 Drill report: " << s.scenario << "\n\n";
  o << "| 项目 Item | 值 Value |\n|---|---|\n";
  o << "| 值班人员 Person on duty | " << (s.duty.empty() ? "—" : s.duty) << " |\n";
  o << "| 演练时长 Drill length | " << secs(s.ended_at) << " s |\n";
  o << "| 确认时限 Acknowledge within | " << secs(s.ack_target) << " s |\n";
  o << "| 处置时限 Handle within | " << secs(s.handle_target) << " s |\n";
  o << "| 报警数 Alarms scored | " << s.alarms.size() << " |\n";
  o << "| 及时 / 超时 / 遗漏 On time / late / missed | " << s.passed << " / " << s.late << " / " << s.missed << " |\n";
  o << "| 未确认升级 Escalations (unacknowledged) | " << s.escalations << " |\n";
  o << "| **总分 Total score** | **" << total << " / 100** |\n";
  o << "| 结论 Result | " << (s.all_on_time ? "全部及时 all on time" : "存在超时或遗漏 late or missed items") << " |\n\n";
  o << "## 报警明细 Alarms\n\n";
  o << "| 编号 ID | 类型 Type | 级别 Level | 人员 Who | 触发 Raised (s) | 确认用时 To ack (s) | 判定 Verdict | 处置用时 To handle (s) | 判定 Verdict | 得分 Points |\n";
  o << "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const ScoredAlarm& a : s.alarms) {
    std::string who;
    for (const std::string& w : a.who) who += (who.empty() ? "" : ", ") + w;
    char pts[32];
    std::snprintf(pts, sizeof pts, "%.0f", a.points);
    o << "| " << a.id << " | " << zh(a.type) << " " << to_string(a.type) << " | " << zh(a.level) << " " << to_string(a.level) << " | "
      << (who.empty() ? "—" : who) << " | " << secs(a.raised_at) << " | " << (a.ack_delay ? secs(*a.ack_delay) : "—") << " | "
      << verdict_zh(a.ack) << " " << to_string(a.ack) << " | " << (a.handle_delay ? secs(*a.handle_delay) : "—") << " | "
      << verdict_zh(a.handle) << " " << to_string(a.handle) << " | " << (a.scored ? pts : "—") << " |\n";
  }
  if (s.alarms.empty()) o << "| — | 无 none | | | | | | | | |\n";
  o << "\n## 遗漏报警 Missed alarms\n\n";
  bool any = false;
  for (const ScoredAlarm& a : s.alarms)
    if (a.ack == Verdict::missed || a.handle == Verdict::missed) {
      any = true;
      o << "- " << a.id << " " << zh(a.type) << " " << to_string(a.type) << ": "
        << (a.ack == Verdict::missed ? "未确认 not acknowledged" : "未处置 not handled") << "\n";
    }
  if (!any) o << "无 None.\n";
  o << "\n时间自报警触发起计；确认恰在时限内为及时。Delays are measured from the raise; a delay equal to the target passes.\n"
       "每条报警：确认50分、处置50分（超时各得25分，遗漏0分）。Per alarm: acknowledgement 50, handling 50 (late 25, missed 0).\n";
  return o.str();
}

bool write_drill_report(const DrillScore& s, const std::string& dir, std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    error = dir + ": cannot create the report folder: " + ec.message();
    return false;
  }
  for (const auto& [name, text] : {std::pair{std::string("drill.json"), drill_json(s)}, std::pair{std::string("drill.md"), drill_markdown(s)},
                                    std::pair{std::string("drill.html"), drill_html(s)}}) {
    std::ofstream f(fs::path(dir) / name, std::ios::binary);
    f << text;
    if (!f) {
      error = (fs::path(dir) / name).string() + ": cannot write";
      return false;
    }
  }
  return true;
}

}  // namespace planttwin::viewer

#include "scenarios/report.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#ifndef PLANTTWIN_VERSION
#define PLANTTWIN_VERSION "0.0.0"
#endif

namespace planttwin {

namespace {

struct ReqTitle {
  const char* id;
  const char* zh;
  const char* en;
};
const ReqTitle kReqs[] = {
    {"PL-01", "实时位置与人数统计", "Real-time positions and headcounts"},
    {"PL-02", "人员聚集风险报警", "Gathering risk alarm"},
    {"PL-03", "历史轨迹查询", "History and trajectory query"},
    {"PL-04", "电子围栏", "Electronic fences"},
    {"PL-05", "异常报警（超员、越界、静止、缺员、滞留）", "Abnormal alarms (capacity, crossing, stationary, staffing, overstay)"},
    {"PL-06", "一键报警", "One-key alarm (SOS)"},
    {"PL-07", "统计分析", "Statistics"},
    {"PL-08", "高风险场所全覆盖", "Full coverage of high-risk places"},
    {"PL-09", "人员持卡", "Every person carries a card"},
    {"PL-10", "值班值守", "Duty rules"},
    {"PL-11", "数据交换", "Data exchange"},
    {"PL-12", "与特殊作业联动", "Linkage with special work"},
    {"PL-13", "视频联动", "Video linkage"},
    {"PL-14", "三维多楼层显示", "3D multi-floor display"},
    {"SO-01", "作业预约", "Reservation"},
    {"SO-02", "作业审批", "Permit approval"},
    {"SO-03", "作业过程管控", "Control during work"},
    {"SO-04", "验收与归档", "Acceptance and archive"},
    {"SO-05", "统计分析", "Statistics"},
    {"SO-06", "管理规则", "Management rules"},
    {"SO-07", "电子作业票", "Electronic permits only"},
    {"SO-08", "作业全程视频", "Video of all work"},
    {"SO-09", "数据交换", "Data exchange"},
    {"SO-10", "承包商与资质", "Contractor and qualification data"},
    {"H-01", "确定性引擎", "Deterministic engine"},
    {"H-02", "仿真器", "Simulator"},
    {"H-03", "硬件在环", "Hardware in the loop"},
    {"H-04", "可视化", "Viewer"},
    {"H-05", "验收套件与报告", "Acceptance suite and report"},
    {"H-06", "时延与精度验证", "Verification of latency and accuracy"},
    {"H-07", "演练", "Drills"},
    {"H-08", "基准测试", "Benchmarks"},
};

std::string iso_local(std::int64_t unix_s, int offset_min) {
  const std::int64_t local = unix_s + static_cast<std::int64_t>(offset_min) * 60;
  std::int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  const int sod = static_cast<int>(local - days * 86400);
  int y, m, d;
  civil_from_days(days, y, m, d);
  const int off = offset_min < 0 ? -offset_min : offset_min;
  char b[64];
  std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, m, d, sod / 3600, sod / 60 % 60, sod % 60,
                offset_min < 0 ? '-' : '+', off / 60, off % 60);
  return b;
}

nlohmann::ordered_json opt_seconds(const std::optional<Micros>& t) {
  return t ? nlohmann::ordered_json(to_seconds(*t)) : nlohmann::ordered_json(nullptr);
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

std::string md_escape(std::string s) {
  std::string o;
  for (char c : s) {
    if (c == '|') o += "\\|";
    else if (c == '\n') o += ' ';
    else o += c;
  }
  return o;
}

std::string secs(Micros t) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", to_seconds(t));
  return b;
}

const char* status_zh(const std::string& s) {
  if (s == "passed") return "通过 PASS";
  if (s == "failed") return "不通过 FAIL";
  return "未测试 UNTESTED";
}

const char* handling_zh(const std::string& s) {
  if (s == "closed") return "已关闭 closed";
  if (s == "handled") return "已处置 handled";
  if (s == "acknowledged") return "已确认 acknowledged";
  return "未确认 raised";
}

}  // namespace

std::string requirement_title(const std::string& id) {
  for (const ReqTitle& r : kReqs)
    if (id == r.id) return std::string(r.zh) + " " + r.en;
  return "";
}

std::vector<RequirementOutcome> requirement_outcomes(const Scenario& sc, const RunResult& r) {
  std::vector<std::string> ids = sc.requirements;
  for (const ExpectationResult& e : r.expectations)
    if (!e.req.empty() && std::find(ids.begin(), ids.end(), e.req) == ids.end()) ids.push_back(e.req);
  std::vector<RequirementOutcome> out;
  for (const std::string& id : ids) {
    RequirementOutcome o;
    o.id = id;
    bool all = true;
    for (const ExpectationResult& e : r.expectations)
      if (e.req == id) {
        o.expectations.push_back(e.index);
        all = all && e.passed;
      }
    o.status = o.expectations.empty() ? "untested" : all ? "passed" : "failed";
    out.push_back(std::move(o));
  }
  return out;
}

namespace {

const char* positioning_name(Positioning::Mode m) {
  switch (m) {
    case Positioning::Mode::truth: return "truth";
    case Positioning::Mode::simulated: return "simulated";
    case Positioning::Mode::recorded: return "recorded";
  }
  return "truth";
}

// Fixes are not the true positions: simulated or recorded positioning, noisy truth, or a live
// session / replay (hardware fixes; their accuracy is the marks', when marks were sent).
bool fixes_estimated(const Scenario& sc, const RunResult& r) {
  return sc.positioning.mode != Positioning::Mode::truth || sc.positioning.noise_sigma > 0 || r.session.has_value();
}

// The accuracy keys of report.json: the original four (n, mean, cdf68, cdf95) and beside them
// median, rmse, p95, max (horizontal) and `3d` with the same figures in 3D.
nlohmann::ordered_json accuracy_json(const AccuracyStats& a) {
  nlohmann::ordered_json j = {{"n", a.n},           {"mean", a.mean}, {"cdf68", a.cdf68}, {"cdf95", a.cdf95},
                              {"median", a.median}, {"rmse", a.rmse}, {"p95", a.p95},     {"max", a.max}};
  if (a.three_d)
    j["3d"] = {{"n", a.three_d->n},       {"mean", a.three_d->mean}, {"rmse", a.three_d->rmse}, {"median", a.three_d->median},
               {"cdf68", a.three_d->cdf68}, {"p95", a.three_d->p95},   {"max", a.three_d->max}};
  return j;
}

std::string recorded_markdown(const RecordedReport& rc) {
  char b[512];
  std::string m = "\n## 实测定位 Recorded positioning\n\n";
  std::snprintf(b, sizeof b,
                "日志行 Rows %llu (坏行 bad %llu, 丢弃列 dropped values %llu); 历元 epochs %llu, 定位 fixed %llu; "
                "评估窗口内 in the evaluation window %llu / %llu (%.1f %%); 疑似非视距 NLOS-suspect ranges %llu (%.2f %%)\n",
                static_cast<unsigned long long>(rc.rows), static_cast<unsigned long long>(rc.bad_rows),
                static_cast<unsigned long long>(rc.dropped_columns), static_cast<unsigned long long>(rc.epochs),
                static_cast<unsigned long long>(rc.fixed), static_cast<unsigned long long>(rc.fixed_evaluated),
                static_cast<unsigned long long>(rc.epochs_evaluated), 100 * rc.fix_share(),
                static_cast<unsigned long long>(rc.nlos_suspected), 100 * rc.nlos_share);
  m += b;
  if (rc.evaluate) {
    std::snprintf(b, sizeof b, "\n评估窗口 Evaluation window: %.3f s – %.3f s\n", rc.evaluate->first, rc.evaluate->second);
    m += b;
  }
  if (!rc.no_fix.empty()) {
    m += "\n| 无定位原因 Why no fix | 历元 Epochs |\n|---|---|\n";
    for (const auto& [why, n] : rc.no_fix) m += "| " + why + " | " + std::to_string(n) + " |\n";
  }
  if (!rc.anchors.empty()) {
    m += "\n残差 = 测量距离 − 真实距离 (m)。Residual = measured − true distance (m).\n\n"
         "| 基站 Anchor | 次数 Ranges | 偏差 Bias | 离散 Spread | 中位数 Median | P95 |\n|---|---|---|---|---|---|\n";
    for (const AnchorResidual& a : rc.anchors) {
      std::snprintf(b, sizeof b, "| %s | %llu | %.3f | %.3f | %.3f | %.3f |\n", a.anchor.c_str(), static_cast<unsigned long long>(a.n),
                    a.bias, a.spread, a.median, a.p95);
      m += b;
    }
  }
  if (!rc.problems.empty()) {
    m += "\n坏行 Bad rows (前 first " + std::to_string(rc.problems.size()) + "):\n\n";
    for (const LogProblem& p : rc.problems) m += "- `" + p.to_string() + "`\n";
  }
  return m;
}

}  // namespace

nlohmann::ordered_json report_json(const Scenario& sc, const RunResult& r) {
  using J = nlohmann::ordered_json;
  J j;
  j["format"] = "planttwin-report/1";
  j["scenario"] = sc.name;
  j["file"] = sc.file;
  j["description"] = sc.description;
  j["requirements"] = sc.requirements;
  j["passed"] = r.passed;
  J prov;
  prov["product"] = "planttwin";
  prov["version"] = PLANTTWIN_VERSION;
  prov["scenario_sha256"] = sc.scenario_sha256;
  prov["site"] = sc.site.name;
  prov["site_file"] = sc.site.file;
  prov["site_sha256"] = sc.site_sha256;
  prov["seed"] = sc.seed;
  prov["start"] = iso_local(sc.clock.start_unix_s, sc.clock.utc_offset_min);
  if (r.session) {
    // a live session or a replay: its own length and inputs; the scenario's positioning,
    // noise_sigma and fix_rate do not apply (the fixes came from the hardware)
    const SessionProvenance& ss = *r.session;
    prov["duration_s"] = ss.duration_s;
    prov["positioning"] = ss.replay ? "replay" : "live";
    if (ss.replay) {
      prov["recording"] = ss.recording;
      prov["recording_sha256"] = ss.recording_sha256;
    }
    prov["inputs"] = {{"fix", ss.fix_messages}, {"range", ss.range_messages}, {"tdoa", ss.tdoa_messages}, {"mark", ss.mark_messages}};
    prov["solver"] = ss.solver_epochs > 0;
    prov["solver_epochs"] = ss.solver_epochs;
    prov["fixes"] = r.fixes;
  } else {
    prov["duration_s"] = to_seconds(sc.duration);
    prov["positioning"] = positioning_name(sc.positioning.mode);
    if (sc.positioning.mode == Positioning::Mode::recorded) {
      J logs = J::object();
      if (!sc.recorded.ranges.empty()) logs["ranges"] = sc.recorded.ranges;
      if (!sc.recorded.tdoa.empty()) logs["tdoa"] = sc.recorded.tdoa;
      if (!sc.recorded.truth.empty()) logs["truth"] = sc.recorded.truth;
      prov["recorded"] = logs;
    }
    prov["noise_sigma"] = sc.positioning.noise_sigma;
    prov["fix_rate"] = sc.fix_rate;
  }
  if (r.resumed_at) prov["resumed_at"] = *r.resumed_at;  // continued from a checkpoint at this engine time (s)
  j["provenance"] = prov;

  J exps = J::array();
  for (const ExpectationResult& e : r.expectations)
    exps.push_back({{"index", e.index}, {"req", e.req}, {"passed", e.passed}, {"expectation", e.text}, {"detail", e.detail}});
  j["expectations"] = exps;
  J reqs = J::array();
  for (const RequirementOutcome& o : requirement_outcomes(sc, r))
    reqs.push_back({{"id", o.id}, {"title", requirement_title(o.id)}, {"status", o.status}, {"expectations", o.expectations}});
  j["requirement_results"] = reqs;

  J alarms = J::array();
  for (const Alarm& a : r.alarms) {
    J ev = J::array();
    for (const AlarmEvent& e : a.events)
      ev.push_back({{"t", to_seconds(e.t)}, {"event", to_string(e.kind)}, {"level", to_string(e.level)}, {"by", e.by}, {"note", e.note}});
    J ja;
    ja["id"] = a.id;
    ja["type"] = to_string(a.type);
    ja["type_zh"] = zh(a.type);
    ja["level"] = to_string(a.level);
    ja["code"] = to_string(a.code);
    ja["raised_at"] = to_seconds(a.raised_at);
    ja["cleared_at"] = opt_seconds(a.cleared_at);
    ja["acknowledged_at"] = opt_seconds(a.acknowledged_at);
    ja["handled_at"] = opt_seconds(a.handled_at);
    ja["closed_at"] = opt_seconds(a.closed_at);
    ja["status"] = a.handling_status();
    ja["events"] = ev;
    ja["who"] = a.who;
    ja["zone"] = a.zone;
    ja["permit"] = a.permit;
    ja["of"] = a.of;
    if (!a.holder.empty()) ja["holder"] = a.holder;
    ja["routed_to"] = a.routed_to;
    ja["position"] = {{"x", a.pos.x}, {"y", a.pos.y}, {"floor", a.floor}};
    ja["cameras"] = a.cameras;
    alarms.push_back(ja);
  }
  j["alarms"] = alarms;
  J refs = J::array();
  for (const Refusal& f : r.refusals)
    refs.push_back({{"t", to_seconds(f.t)}, {"permit", f.permit}, {"action", f.action}, {"codes", f.codes}});
  j["refusals"] = refs;
  J permits = J::array();
  for (const PermitRecord& p : r.permits) {
    J hist = J::array();
    for (const auto& [t, what] : p.history) hist.push_back({{"t", to_seconds(t)}, {"what", what}});
    J area = J::array();
    for (const Vec2& v : p.area) area.push_back({v.x, v.y});
    permits.push_back({{"id", p.id},         {"type", p.type},          {"grade", p.grade},       {"status", to_string(p.status)},
                       {"aq2_status", p.aq2_code}, {"reservation", p.reservation}, {"from", to_seconds(p.from)}, {"to", to_seconds(p.to)},
                       {"area", area},       {"floor", p.floor},        {"workers", p.workers},   {"guardian", p.guardian},
                       {"approver", p.approver}, {"approvals", p.approvals}, {"linked", p.linked},  {"history", hist}});
  }
  j["permits"] = permits;

  // statistics (PL-07): alarms by type, level, zone and handling status; entries by category
  J st;
  std::map<std::string, int> by_type, by_level, by_zone, by_status;
  for (const Alarm& a : r.alarms) {
    ++by_type[to_string(a.type)];
    ++by_level[a.level == AlarmLevel::none ? "none" : to_string(a.level)];
    ++by_zone[a.zone.empty() ? "(none)" : a.zone];
    ++by_status[a.handling_status()];
  }
  st["alarms"] = {{"total", r.alarms.size()}, {"by_type", by_type}, {"by_level", by_level}, {"by_zone", by_zone}, {"by_status", by_status}};
  auto cats = [](const std::array<int, kCategoryCount>& c) {
    J o;
    for (int i = 0; i < kCategoryCount; ++i) o[to_string(static_cast<Category>(i))] = c[static_cast<size_t>(i)];
    return o;
  };
  J zones = J::object();
  for (size_t z = 0; z < sc.site.zones.size() && z < r.stats.zone_entries.size(); ++z) {
    int peak = 0;
    auto it = r.zone_counts.find(sc.site.zones[z].id);
    if (it != r.zone_counts.end())
      for (const ZoneCountSample& s : it->second) peak = std::max(peak, s.count);
    zones[sc.site.zones[z].id] = {{"entries", cats(r.stats.zone_entries[z])}, {"people", cats(r.stats.zone_visitors[z])}, {"peak_headcount", peak}};
  }
  st["entries"] = {{"gate", cats(r.stats.gate_entries)}, {"zones", zones}};
  // special work (SO-05): permits by type, grade and status; alarms by AQ 3064.2 code
  std::map<std::string, int> by_permit_type, by_permit_grade, by_permit_status, by_code;
  for (const PermitRecord& p : r.permits) {
    ++by_permit_type[p.type];
    ++by_permit_grade[p.type + (p.grade.empty() ? "" : "/" + p.grade)];
    ++by_permit_status[to_string(p.status)];
  }
  for (const Alarm& a : r.alarms)
    if (a.code != Aq2Code::none) ++by_code[to_string(a.code)];
  // today's work: permits valid at some time of the local day the run ends on
  const LocalTime end_day = local_time(sc.clock, sc.duration);
  const Micros day_start = sc.duration - static_cast<Micros>(end_day.second_of_day) * kSecond;
  std::vector<std::string> today;
  for (const PermitRecord& p : r.permits)
    if (p.from < day_start + kDay && p.to >= day_start) today.push_back(p.id);
  st["permits"] = {{"total", r.permits.size()}, {"by_type", by_permit_type}, {"by_grade", by_permit_grade},
                   {"by_status", by_permit_status}, {"today", today}};
  st["alarm_codes"] = by_code;
  st["refusals"] = r.refusals.size();
  st["warnings_sent"] = r.warns.size();
  j["statistics"] = st;
  J warns = J::array();
  for (const WarnRecord& w : r.warns) warns.push_back({{"t", to_seconds(w.t)}, {"tag", w.tag}, {"alarm_id", w.alarm_id}, {"reason", w.reason}});
  j["warns"] = warns;
  j["counters"] = {{"inputs", r.counters.inputs},        {"fixes", r.counters.fixes},
                   {"steps", r.counters.steps},          {"late_inputs", r.counters.late_inputs},
                   {"unknown_tag", r.counters.unknown_tag}, {"unmatched_actions", r.counters.unmatched_actions},
                   {"permit_commands", r.counters.permit_commands},
                   {"invalid_fixes", r.counters.invalid_fixes}};
  const bool estimated = fixes_estimated(sc, r);
  if (estimated && r.accuracy) j["accuracy"] = accuracy_json(*r.accuracy);
  if (r.recorded) {
    const RecordedReport& rc = *r.recorded;
    J problems = J::array();
    for (const LogProblem& p : rc.problems)
      problems.push_back({{"file", p.file}, {"line", p.line}, {"field", p.field}, {"message", p.message}});
    J anchors = J::array();
    for (const AnchorResidual& a : rc.anchors)
      anchors.push_back({{"anchor", a.anchor}, {"n", a.n}, {"bias", a.bias}, {"spread", a.spread}, {"median", a.median}, {"p95", a.p95}});
    J no_fix = J::object();
    for (const auto& [why, n] : rc.no_fix) no_fix[why] = n;
    J rec = {{"rows", rc.rows}, {"bad_rows", rc.bad_rows}, {"dropped_columns", rc.dropped_columns}, {"problems", problems},
             {"ranges", rc.ranges}, {"held_ranges", rc.held_ranges}, {"epochs", rc.epochs}, {"fixed", rc.fixed}, {"epochs_evaluated", rc.epochs_evaluated},
             {"fixed_evaluated", rc.fixed_evaluated}, {"fix_share", rc.fix_share()}, {"no_fix", no_fix},
             {"nlos_suspected", rc.nlos_suspected}, {"nlos_share", rc.nlos_share}, {"anchor_residuals", anchors}};
    if (rc.evaluate) rec["evaluate"] = {{"from", rc.evaluate->first}, {"to", rc.evaluate->second}};
    j["recorded"] = rec;
  }
  if (r.twin)
    j["twin"] = {{"scenario", r.twin->scenario}, {"file", r.twin->file}, {"fixes", r.twin->fixes}, {"accuracy", accuracy_json(r.twin->accuracy)}};
  if (estimated && r.alarm_quality)
    j["alarm_quality"] = {{"compared", r.alarm_quality->compared}, {"estimated", r.alarm_quality->estimated},
                          {"missed", r.alarm_quality->missed}, {"false", r.alarm_quality->false_rate}};
  if (estimated && r.alarm_delay)
    j["alarm_delay"] = {{"n", r.alarm_delay->n}, {"p50", r.alarm_delay->p50}, {"p95", r.alarm_delay->p95}, {"max", r.alarm_delay->max}};
  if (!r.survey_points.empty()) {
    J sp = J::array();
    for (const SurveyPointAccuracy& p : r.survey_points)
      sp.push_back({{"point", p.point}, {"n", p.n}, {"mean", p.mean}, {"cdf68", p.cdf68}, {"cdf95", p.cdf95}});
    j["survey_points"] = sp;
  }
  if (r.radio) {
    J links = J::array();
    for (const RadioLinkReport& l : *r.radio)
      links.push_back({{"tag", l.tag}, {"anchor", l.anchor}, {"n", l.n}, {"nlos_share", l.nlos_share}, {"dropped_share", l.dropped_share},
                       {"error_median", l.error_median}, {"error_p95", l.error_p95}});
    j["radio"] = {{"links", links}, {"resolution", 0.005}};
  }
  if (r.simulation)
    j["simulation"] = {{"blinks", r.simulation->blinks}, {"fixes", r.simulation->fixes}, {"no_fix", r.simulation->no_fix},
                       {"rays", r.simulation->rays}, {"collisions", r.simulation->collisions}};
  j["hash"] = r.hash;
  j["hash_of"] = "SHA-256 of the canonical alarm stream (docs/hash.md)";
  j["fix_hash"] = r.fix_hash;
  j["fix_hash_of"] = "SHA-256 chain over the published fixes (docs/hash.md)";
  return j;
}

std::string report_markdown(const Scenario& sc, const RunResult& r) {
  std::string m;
  m += "# 验收报告 Acceptance report: " + sc.name + "\n\n";
  m += std::string("**结论 Result: ") + (r.passed ? "通过 PASS" : "不通过 FAIL") + "**\n\n";
  if (!sc.description.empty()) m += sc.description + "\n\n";
  m += "| 项目 Item | 值 Value |\n|---|---|\n";
  m += "| 场景文件 Scenario file | `" + sc.file + "` |\n";
  m += "| 场景 SHA-256 | `" + sc.scenario_sha256 + "` |\n";
  m += "| 厂区 Site | " + md_escape(sc.site.name) + (sc.site.file.empty() ? "" : " (`" + sc.site.file + "`)") + " |\n";
  if (!sc.site_sha256.empty()) m += "| 厂区 SHA-256 | `" + sc.site_sha256 + "` |\n";
  m += "| 开始时间 Start | " + iso_local(sc.clock.start_unix_s, sc.clock.utc_offset_min) + " |\n";
  if (r.session) {
    const SessionProvenance& ss = *r.session;
    char b[512];
    std::snprintf(b, sizeof b, "| 时长 Duration | %.3f s |\n", ss.duration_s);
    m += b;
    m += "| 随机种子 Seed | " + std::to_string(sc.seed) + " |\n";
    std::snprintf(b, sizeof b,
                  "| 定位方式 Positioning | %s: 输入 inputs fix %llu, range %llu, tdoa %llu, mark %llu; 解算器 solver %s (%llu 历元 epochs); "
                  "定位点 fixes %zu |\n",
                  ss.replay ? "replay 回放" : "live 现场", static_cast<unsigned long long>(ss.fix_messages),
                  static_cast<unsigned long long>(ss.range_messages), static_cast<unsigned long long>(ss.tdoa_messages),
                  static_cast<unsigned long long>(ss.mark_messages), ss.solver_epochs > 0 ? "运行 ran" : "未运行 not run",
                  static_cast<unsigned long long>(ss.solver_epochs), r.fixes);
    m += b;
    if (ss.replay) m += "| 记录文件 Recording | `" + ss.recording + "` (SHA-256 `" + ss.recording_sha256 + "`) |\n";
  } else {
    m += "| 时长 Duration | " + secs(sc.duration) + " s |\n";
    m += "| 随机种子 Seed | " + std::to_string(sc.seed) + " |\n";
    m += "| 定位方式 Positioning | " + std::string(positioning_name(sc.positioning.mode)) +
         (sc.positioning.noise_sigma > 0 ? ", noise σ = " + std::to_string(sc.positioning.noise_sigma) + " m" : "") + " |\n";
  }
  m += "| 产品版本 Product version | planttwin " PLANTTWIN_VERSION " |\n";
  m += "| 报警流哈希 Alarm-stream hash | `" + r.hash + "` |\n";
  m += "| 定位流哈希 Fix-stream hash | `" + r.fix_hash + "` |\n\n";

  m += "## 需求结论 Requirements\n\n| 需求 Requirement | 名称 Title | 结论 Result | 依据 Evidence (expectations) |\n|---|---|---|---|\n";
  for (const RequirementOutcome& o : requirement_outcomes(sc, r)) {
    std::string ev;
    for (int i : o.expectations) ev += (ev.empty() ? "#" : ", #") + std::to_string(i + 1);
    m += "| " + o.id + " | " + requirement_title(o.id) + " | " + status_zh(o.status) + " | " + (ev.empty() ? "—" : ev) + " |\n";
  }
  m += "\n## 预期检查 Expectations\n\n| # | 需求 Req | 预期 Expectation | 结论 Result | 证据 Evidence |\n|---|---|---|---|---|\n";
  for (const ExpectationResult& e : r.expectations)
    m += "| " + std::to_string(e.index + 1) + " | " + (e.req.empty() ? "—" : e.req) + " | `" + md_escape(e.text) + "` | " +
         (e.passed ? "通过 PASS" : "不通过 FAIL") + " | " + md_escape(e.detail) + " |\n";

  m += "\n## 报警记录 Alarms\n\n";
  if (r.alarms.empty()) {
    m += "无报警 No alarms.\n";
  } else {
    m += "| 编号 ID | 类型 Type | 级别 Level | 报警 Raised (s) | 解除 Cleared (s) | 人员 Who | 区域 Zone | 值班 Routed to | 处置状态 Handling |\n"
         "|---|---|---|---|---|---|---|---|---|\n";
    for (const Alarm& a : r.alarms)
      m += "| " + a.id + " | " + zh(a.type) + " " + to_string(a.type) +
           (a.code == Aq2Code::none ? std::string() : std::string(" (") + to_string(a.code) + ")") + " | " + zh(a.level) + " " +
           to_string(a.level) + " | " + secs(a.raised_at) + " | " + (a.cleared_at ? secs(*a.cleared_at) : "—") + " | " +
           md_escape(join(a.who)) + " | " + (a.zone.empty() ? "—" : a.zone) + " | " + (a.routed_to.empty() ? "—" : a.routed_to) + " | " +
           handling_zh(a.handling_status()) + " |\n";
  }
  if (!r.permits.empty()) {
    m += "\n## 作业票 Permits (special work)\n\n| 编号 ID | 类型 Type | 级别 Grade | 状态 Status | 作业人 Workers | 监护人 Guardian | 审批人 Approver | 有效期 Valid (s) |\n"
         "|---|---|---|---|---|---|---|---|\n";
    for (const PermitRecord& p : r.permits)
      m += "| " + p.id + " | " + p.type + " | " + (p.grade.empty() ? "—" : p.grade) + " | " + to_string(p.status) + " (" +
           std::to_string(p.aq2_code) + ") | " + md_escape(join(p.workers)) + " | " + p.guardian + " | " + p.approver + " | " +
           secs(p.from) + " – " + secs(p.to) + " |\n";
  }
  if (!r.refusals.empty()) {
    m += "\n## 拒绝的操作 Refused commands\n\n| 时间 t (s) | 作业票 Permit | 操作 Action | 代码 Codes (AQ 3064.2) |\n|---|---|---|---|\n";
    for (const Refusal& f : r.refusals)
      m += "| " + secs(f.t) + " | " + f.permit + " | " + f.action + " | " + (f.codes.empty() ? "—" : join(f.codes)) + " |\n";
  }
  // statistics by type and handling status
  std::map<std::string, std::map<std::string, int>> by_type;
  for (const Alarm& a : r.alarms) ++by_type[to_string(a.type)][a.handling_status()];
  if (!by_type.empty()) {
    m += "\n## 报警统计 Alarm statistics\n\n| 类型 Type | 合计 Total | 未确认 Raised | 已确认 Acknowledged | 已处置 Handled | 已关闭 Closed |\n|---|---|---|---|---|---|\n";
    for (const auto& [type, st] : by_type) {
      int total = 0;
      for (const auto& kv : st) total += kv.second;
      auto g = [&](const char* k) {
        auto it = st.find(k);
        return std::to_string(it == st.end() ? 0 : it->second);
      };
      AlarmType ty = AlarmType::gathering;
      parse_alarm_type(type, ty);
      m += "| " + std::string(zh(ty)) + " " + type + " | " + std::to_string(total) + " | " + g("raised") + " | " + g("acknowledged") +
           " | " + g("handled") + " | " + g("closed") + " |\n";
    }
  }
  const bool estimated = fixes_estimated(sc, r);
  if (estimated && r.accuracy) {
    char b[256];
    std::snprintf(b, sizeof b, "\n## 定位精度 Accuracy\n\n%zu 个定位点 fixes: 均值 mean %.3f m, CDF 68.27%% %.3f m, CDF 95%% %.3f m\n", r.accuracy->n,
                  r.accuracy->mean, r.accuracy->cdf68, r.accuracy->cdf95);
    m += b;
    m += "\n| 误差 Error | 中位数 Median | 均值 Mean | RMSE | CDF 68.27% | P95 | 最大 Max |\n|---|---|---|---|---|---|---|\n";
    auto row = [&](const char* what, double med, double mean, double rmse, double c68, double p95, double mx) {
      std::snprintf(b, sizeof b, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", what, med, mean, rmse, c68, p95, mx);
      m += b;
    };
    const AccuracyStats& a = *r.accuracy;
    row("水平 Horizontal (m)", a.median, a.mean, a.rmse, a.cdf68, a.p95, a.max);
    if (a.three_d) row("三维 3D (m)", a.three_d->median, a.three_d->mean, a.three_d->rmse, a.three_d->cdf68, a.three_d->p95, a.three_d->max);
    if (r.twin) {
      const AccuracyStats& t = r.twin->accuracy;
      row(("仿真孪生 Simulated twin `" + r.twin->scenario + "` (m)").c_str(), t.median, t.mean, t.rmse, t.cdf68, t.p95, t.max);
    }
    if (r.alarm_quality && r.alarm_delay) {
      std::snprintf(b, sizeof b, "\n漏报率 Missed %.1f %%, 误报率 False %.1f %% (对照 oracle %zu / 估计 estimated %zu); 报警时延 delay p50 %.1f s, p95 %.1f s\n",
                    100 * r.alarm_quality->missed, 100 * r.alarm_quality->false_rate, r.alarm_quality->compared, r.alarm_quality->estimated,
                    r.alarm_delay->p50, r.alarm_delay->p95);
      m += b;
    }
  }
  if (r.recorded) m += recorded_markdown(*r.recorded);
  if (!r.survey_points.empty()) {
    m += "\n## 测试点精度 Accuracy per survey point (AQ 3064.3 App. A)\n\n| 测试点 Point | 定位点 Fixes | 均值 Mean (m) | CDF 68.27% (m) | CDF 95% (m) |\n|---|---|---|---|---|\n";
    for (const SurveyPointAccuracy& p : r.survey_points) {
      char b[256];
      std::snprintf(b, sizeof b, "| %s | %zu | %.3f | %.3f | %.3f |\n", p.point.c_str(), p.n, p.mean, p.cdf68, p.cdf95);
      m += b;
    }
  }
  if (r.simulation) {
    char b[320];
    std::snprintf(b, sizeof b,
                  "\n## 仿真定位 Simulated positioning\n\n测距次数 Blinks %llu, 定位点 fixes %llu, 无定位 no fix %llu, 射线 rays %llu, 碰撞 collisions %llu\n",
                  static_cast<unsigned long long>(r.simulation->blinks), static_cast<unsigned long long>(r.simulation->fixes),
                  static_cast<unsigned long long>(r.simulation->no_fix), static_cast<unsigned long long>(r.simulation->rays),
                  static_cast<unsigned long long>(r.simulation->collisions));
    m += b;
  }
  if (r.radio && !r.radio->empty()) {
    m += "\n## 无线链路 Radio links\n\n测距误差 = 测量距离 − 真实距离 (m)。Range error = measured − true distance (m).\n\n"
         "| 标签 Tag | 基站 Anchor | 次数 Tries | 非视距 NLOS | 丢失 Dropped | 误差中位数 Median | 误差 P95 |\n|---|---|---|---|---|---|---|\n";
    constexpr size_t kMaxRows = 200;  // the JSON report holds every link
    size_t rows = 0;
    for (const RadioLinkReport& l : *r.radio) {
      if (rows++ == kMaxRows) {
        m += "| … | (" + std::to_string(r.radio->size() - kMaxRows) + " more links in report.json) | | | | | |\n";
        break;
      }
      char b[256];
      std::snprintf(b, sizeof b, "| %s | %s | %zu | %.1f %% | %.1f %% | %.3f | %.3f |\n", l.tag.c_str(), l.anchor.c_str(), l.n,
                    100 * l.nlos_share, 100 * l.dropped_share, l.error_median, l.error_p95);
      m += b;
    }
  }
  m += "\n---\n报警流哈希为规范报警流的 SHA-256，见 docs/hash.md。The hash is the SHA-256 of the canonical alarm stream (docs/hash.md).\n";
  return m;
}

namespace {
const char* work_type_zh(const std::string& type) {
  if (type == "hot_work") return "动火作业";
  if (type == "confined_space") return "受限空间作业";
  if (type == "blind_plate") return "盲板抽堵作业";
  if (type == "height") return "高处作业";
  if (type == "lifting") return "吊装作业";
  if (type == "temp_power") return "临时用电作业";
  if (type == "excavation") return "动土作业";
  if (type == "road_break") return "断路作业";
  return "";
}

std::string person_label(const Scenario& sc, const std::string& id) {
  for (const PersonDef& p : sc.people)
    if (p.id == id) return p.name == p.id ? p.id : p.name + " (" + p.id + ")";
  return id;
}
}  // namespace

std::string permit_html(const Scenario& sc, const RunResult& r, const PermitRecord& p) {
  auto esc = [](const std::string& in) {
    std::string o;
    for (char c : in) {
      if (c == '<') o += "&lt;";
      else if (c == '>') o += "&gt;";
      else if (c == '&') o += "&amp;";
      else if (c == '"') o += "&quot;";
      else o += c;
    }
    return o;
  };
  auto at = [&](Micros t) { return iso_local(sc.clock.start_unix_s + t / kSecond, sc.clock.utc_offset_min); };
  auto people = [&](const std::vector<std::string>& ids) {
    std::vector<std::string> v;
    for (const std::string& id : ids) v.push_back(person_label(sc, id));
    return v.empty() ? std::string("—") : join(v);
  };
  // certificate numbers of the workers, as the form asks (动火人及证书编号)
  std::string workers;
  for (const std::string& id : p.workers) {
    std::string certs;
    for (const PersonDef& d : sc.people)
      if (d.id == id)
        for (const CertificateDef& c : d.certificates) certs += (certs.empty() ? "" : ", ") + c.type + " " + c.number;
    workers += (workers.empty() ? "" : "; ") + person_label(sc, id) + (certs.empty() ? "" : " [" + certs + "]");
  }
  std::string area;
  for (const Vec2& v : p.area) {
    char b[48];
    std::snprintf(b, sizeof b, "%s[%.1f, %.1f]", area.empty() ? "" : " ", v.x, v.y);
    area += b;
  }
  auto row = [&](const std::string& zh, const std::string& en, const std::string& value) {
    return "<tr><th>" + zh + "<br><small>" + en + "</small></th><td colspan=\"5\">" + esc(value) + "</td></tr>\n";
  };
  const std::string type_zh = work_type_zh(p.type);
  std::string h = "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>" + esc(p.id) + "</title>\n"
                  "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
                  "th,td{border:1px solid #333;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f2f2f2;width:18%}"
                  "small{color:#555}h1{text-align:center}.sign{height:2.2em}@media print{body{margin:0}}</style></head><body>\n";
  // GB 30871 App. A titles: 动火安全作业票, 受限空间安全作业票, ... (the type without 作业)
  std::string title_zh = type_zh;
  if (title_zh.size() > 6 && title_zh.compare(title_zh.size() - 6, 6, "作业") == 0) title_zh.resize(title_zh.size() - 6);
  h += "<h1>" + title_zh + "安全作业票<br><small>Special work permit: " + esc(p.type) + "</small></h1>\n";
  h += "<p>作业票编号 Permit No.: <b>" + esc(p.id) + "</b> &nbsp; 状态 Status: <b>" + to_string(p.status) + "</b> (AQ 3064.2: " +
       std::to_string(p.aq2_code) + ")</p>\n<table>\n";
  h += row("作业类型", "Type", type_zh + " " + p.type);
  h += row("作业级别", "Grade", p.grade.empty() ? "—" : p.grade);
  if (!p.blind.empty()) h += row("盲板作业", "Blind plate action", p.blind);
  h += row("预约编号", "Reservation", p.reservation.empty() ? "—" : p.reservation);
  h += row("作业实施时间", "Valid from / to", at(p.from) + " — " + at(p.to));
  h += row("作业地点及范围", "Work area", area + (p.floor.empty() ? "" : " (floor " + p.floor + ")"));
  h += row("作业人及证书编号", "Workers and certificates", workers.empty() ? "—" : workers);
  h += row("监护人", "Guardian", person_label(sc, p.guardian));
  h += row("关联的其他特殊作业及安全作业票编号", "Linked permits", p.linked.empty() ? "—" : join(p.linked));
  h += row("风险辨识", "Risk analysis", p.risk_analysis ? "已完成 done" : "未完成 not done");
  h += row("安全措施确认", "Measures confirmed", p.measures_confirmed ? "已确认 confirmed" : "未确认 not confirmed");
  h += row("安全交底", "Safety briefing signed by", people(p.briefed));
  h += "</table>\n<h2>气体分析 Gas analysis</h2>\n<table><tr><th>分析时间<br><small>Time</small></th><th>可燃气体 %vol<br><small>Flammable</small></th>"
       "<th>LEL %</th><th>氧气 %vol<br><small>O2</small></th><th>有毒气体 ppm<br><small>Toxic</small></th><th>分析人<br><small>By</small></th></tr>\n";
  auto num = [](const std::optional<double>& v) {
    if (!v) return std::string("—");
    char b[32];
    std::snprintf(b, sizeof b, "%g", *v);
    return std::string(b);
  };
  for (const PermitGasEntry& g : p.gas) {
    std::string toxic;
    for (const auto& [name, ppm] : g.readings.toxic) {
      char b[64];
      std::snprintf(b, sizeof b, "%s%s %g", toxic.empty() ? "" : ", ", name.c_str(), ppm);
      toxic += b;
    }
    h += "<tr><td>" + at(g.t) + "</td><td>" + num(g.readings.flammable_volpct) + "</td><td>" + num(g.readings.gas_lel_pct) + "</td><td>" +
         num(g.readings.o2_volpct) + "</td><td>" + esc(toxic.empty() ? "—" : toxic) + "</td><td>" + esc(person_label(sc, g.by)) + "</td></tr>\n";
  }
  if (p.gas.empty()) h += "<tr><td colspan=\"6\">无 none</td></tr>\n";
  h += "</table>\n<h2>审批 Approval</h2>\n<table>\n";
  h += row("审批人", "Approver", person_label(sc, p.approver));
  h += row("审批记录", "Approved by", people(p.approvals));
  h += "</table>\n<h2>作业过程 History</h2>\n<table><tr><th>时间<br><small>Time</small></th><td colspan=\"5\"><b>事项 Event</b></td></tr>\n";
  for (const auto& [t, what] : p.history) h += "<tr><th>" + at(t) + "</th><td colspan=\"5\">" + esc(what) + "</td></tr>\n";
  h += "</table>\n";
  std::string alarms;
  for (const Alarm& a : r.alarms)
    if (a.permit == p.id)
      alarms += "<tr><td>" + a.id + "</td><td>" + std::string(zh(a.type)) + " " + to_string(a.type) +
                (a.code == Aq2Code::none ? std::string() : std::string(" (") + to_string(a.code) + ")") +
                "</td><td>" + at(a.raised_at) + "</td><td>" + esc(join(a.who)) + "</td></tr>\n";
  if (!alarms.empty())
    h += "<h2>报警 Alarms</h2>\n<table><tr><th>编号 ID</th><th>类型 Type</th><th>时间 Raised</th><th>人员 Who</th></tr>\n" + alarms + "</table>\n";
  h += "<h2>签字 Signatures</h2>\n<table>\n";
  for (const char* who : {"作业负责人 Work leader", "监护人 Guardian", "所在单位意见 Owning unit", "安全管理部门意见 Safety department",
                          "审批人意见 Approver", "当班班长验票 Shift leader check", "完工验收 Acceptance"})
    h += std::string("<tr><th>") + who + "</th><td colspan=\"5\" class=\"sign\">签字 Signature: &nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; 时间 Time:</td></tr>\n";
  h += "</table>\n<p><small>planttwin " PLANTTWIN_VERSION ", " + esc(sc.name) + " (" + esc(sc.file) +
       "). Layout after GB 30871-2022 App. A.</small></p>\n</body></html>\n";
  return h;
}


nlohmann::ordered_json summary_json(const std::vector<SummaryRow>& rows) {
  using J = nlohmann::ordered_json;
  J j;
  bool all = true;
  J sc = J::array();
  std::map<std::string, std::pair<int, int>> reqs;  // id -> (passed, failed)
  std::set<std::string> untested;
  for (const SummaryRow& r : rows) {
    all = all && r.passed;
    sc.push_back({{"file", r.file}, {"scenario", r.scenario}, {"requirements", r.requirements}, {"passed", r.passed},
                  {"expectations_passed", r.expectations_passed}, {"expectations_total", r.expectations_total}, {"hash", r.hash},
                  {"report", r.report_dir}});
    for (const RequirementOutcome& o : r.outcomes) {
      if (o.status == "passed") ++reqs[o.id].first;
      else if (o.status == "failed") ++reqs[o.id].second;
      else untested.insert(o.id);
    }
  }
  j["format"] = "planttwin-summary/1";
  j["passed"] = all;
  j["scenarios"] = sc;
  J rj = J::array();
  for (const auto& [id, pf] : reqs)
    rj.push_back({{"id", id}, {"title", requirement_title(id)}, {"status", pf.second ? "failed" : "passed"}, {"scenarios_passed", pf.first},
                  {"scenarios_failed", pf.second}});
  for (const std::string& id : untested)
    if (!reqs.count(id)) rj.push_back({{"id", id}, {"title", requirement_title(id)}, {"status", "untested"}});
  j["requirements"] = rj;
  // every AQ 3064.2 code, with the scenarios that raised it (evidence that the engine enforces it)
  J codes = J::array();
  for (const Aq2CodeInfo& info : aq2_alarm_codes()) {
    const std::string code = info.text, type = to_string(info.type);
    std::vector<std::string> where;
    int n = 0;
    for (const SummaryRow& r : rows) {
      auto it = r.codes.find(code);
      if (it == r.codes.end()) continue;
      n += it->second;
      where.push_back(r.scenario);
    }
    codes.push_back({{"code", code}, {"type", type}, {"alarms", n}, {"scenarios", where}});
  }
  j["aq2_codes"] = codes;
  return j;
}

std::string summary_markdown(const std::vector<SummaryRow>& rows) {
  const auto j = summary_json(rows);
  std::string m = "# 验收汇总 Acceptance summary\n\n";
  m += std::string("**结论 Result: ") + (j["passed"].get<bool>() ? "全部通过 ALL PASS" : "存在不通过项 SOME FAILED") + "**\n\n";
  m += "## 需求 Requirements\n\n| 需求 Requirement | 名称 Title | 结论 Result | 场景 Scenarios (pass/fail) |\n|---|---|---|---|\n";
  for (const auto& r : j["requirements"]) {
    const std::string st = r["status"];
    m += "| " + r["id"].get<std::string>() + " | " + r["title"].get<std::string>() + " | " + status_zh(st) + " | " +
         (r.contains("scenarios_passed") ? std::to_string(r["scenarios_passed"].get<int>()) + " / " + std::to_string(r["scenarios_failed"].get<int>())
                                         : "—") +
         " |\n";
  }
  m += "\n## 特殊作业报警代码 AQ 3064.2 alarm codes\n\n| 代码 Code | 报警 Alarm | 次数 Alarms | 场景 Scenarios (evidence) |\n|---|---|---|---|\n";
  for (const auto& c : j["aq2_codes"]) {
    std::vector<std::string> where = c["scenarios"].get<std::vector<std::string>>();
    const std::string type = c["type"];
    AlarmType ty = AlarmType::gathering;
    parse_alarm_type(type, ty);
    m += "| " + c["code"].get<std::string>() + " | " + zh(ty) + " " + type + " | " + std::to_string(c["alarms"].get<int>()) + " | " +
         (where.empty() ? std::string("未覆盖 not exercised") : join(where)) + " |\n";
  }
  m += "\n## 场景 Scenarios\n\n| 场景 Scenario | 需求 Requirements | 结论 Result | 预期 Expectations | 报告 Report |\n|---|---|---|---|---|\n";
  for (const SummaryRow& r : rows)
    m += "| " + r.scenario + " | " + join(r.requirements) + " | " + (r.passed ? "通过 PASS" : "不通过 FAIL") + " | " +
         std::to_string(r.expectations_passed) + "/" + std::to_string(r.expectations_total) + " | `" + r.report_dir + "/report.md` |\n";
  return m;
}

std::string summary_table(const std::vector<SummaryRow>& rows) {
  size_t w1 = 8, w2 = 12;
  for (const SummaryRow& r : rows) {
    w1 = std::max(w1, r.scenario.size());
    w2 = std::max(w2, join(r.requirements, ",").size());
  }
  auto pad = [](std::string s, size_t w) {
    s.resize(std::max(s.size(), w), ' ');
    return s;
  };
  std::string t = pad("scenario", w1) + "  " + pad("requirements", w2) + "  result  expectations\n";
  t += std::string(w1, '-') + "  " + std::string(w2, '-') + "  ------  ------------\n";
  int passed = 0;
  for (const SummaryRow& r : rows) {
    passed += r.passed;
    t += pad(r.scenario, w1) + "  " + pad(join(r.requirements, ","), w2) + "  " + (r.passed ? "PASS  " : "FAIL  ") + "  " +
         std::to_string(r.expectations_passed) + "/" + std::to_string(r.expectations_total) + "\n";
  }
  t += "Result: " + std::to_string(passed) + " of " + std::to_string(rows.size()) + " scenarios passed\n";
  return t;
}

bool write_text_file(const std::string& path, const std::string& text, std::string& error) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::ofstream f(path, std::ios::binary);
  if (!f) {
    error = "cannot write " + path;
    return false;
  }
  f << text;
  f.close();
  if (!f) {
    error = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace planttwin

// Range calibration: see calibrate.h and docs/recorded.md, "Calibration".
//
// Deterministic: residuals are grouped in input order and every location is a sort, a median and
// a mean; the alternating fit has a fixed bound.
#include "scenarios/calibrate.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace planttwin {

namespace {

double median_of(std::vector<double>& v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// robust sigma: 1.4826 median absolute deviation about `centre`
double robust_sigma(const std::vector<double>& v, double centre) {
  std::vector<double> dev;
  dev.reserve(v.size());
  for (double x : v) dev.push_back(std::abs(x - centre));
  return 1.4826 * median_of(dev);
}

// an id as a YAML key: plain when it is safe, else double-quoted
std::string yaml_key(const std::string& id) {
  const bool plain = !id.empty() && std::all_of(id.begin(), id.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.';
  }) && id.front() != '-' && id.front() != '.' && id != "null" && id != "Null" && id != "NULL";
  if (plain) return id;
  std::string q = "\"";
  for (char ch : id) {
    if (ch == '"' || ch == '\\') q += '\\';
    q += ch;
  }
  return q + "\"";
}

std::string fmt(double v, int digits = 3) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

}  // namespace

double robust_location(std::vector<double> v, double trim_k, std::uint64_t* used, double* sigma) {
  if (used) *used = 0;
  if (sigma) *sigma = 0;
  if (v.empty()) return 0;
  const double med = median_of(v);  // sorts v
  // a floor of 1 mm: exact data have no spread, and the trim must still take them
  const double s = std::max(robust_sigma(v, med), 1e-3);
  if (sigma) *sigma = robust_sigma(v, med);
  double centre = med;
  std::uint64_t n = 0;
  for (int pass = 0; pass < 3; ++pass) {
    const double lo = centre - trim_k * s, hi = centre + trim_k * s;
    double sum = 0;
    n = 0;
    for (double x : v)  // sorted: the same sum in every run
      if (x >= lo && x <= hi) sum += x, ++n;
    if (n == 0) break;
    centre = sum / static_cast<double>(n);
  }
  if (used) *used = n;
  return centre;
}

RangeOffsets RangeCalibration::offsets() const {
  RangeOffsets o;
  auto written = [](double v) { return std::round(v * 1e4) / 1e4; };  // as offsets_yaml writes them
  for (const OffsetEstimate& a : anchors)
    if (a.estimated) o.anchors[a.id] = written(a.offset);
  if (tags_separable)
    for (const OffsetEstimate& t : tags)
      if (t.estimated) o.tags[t.id] = written(t.offset);
  return o;
}

RangeCalibration fit_range_offsets(const std::vector<std::string>& anchor_ids, const std::vector<std::string>& tag_ids,
                                   const std::vector<RangeResidual>& residuals, const CalibrationOptions& opt) {
  RangeCalibration c;
  c.ranges = residuals.size();
  const std::size_t na = anchor_ids.size(), nt = tag_ids.size();
  for (const std::string& id : anchor_ids) c.anchors.push_back({id, 0, 0, 0, 0, false, ""});
  for (const std::string& id : tag_ids) c.tags.push_back({id, 0, 0, 0, 0, false, ""});
  auto valid = [&](const RangeResidual& r) {
    return r.anchor >= 0 && static_cast<std::size_t>(r.anchor) < na && r.tag >= 0 && static_cast<std::size_t>(r.tag) < nt &&
           std::isfinite(r.e);
  };
  // counts: anchors over every range; tags over ranges to anchors with enough; anchors again over
  // ranges of tags with enough (a refused tag's unknown offset must not leak into the anchors')
  std::vector<std::uint64_t> an(na, 0), tn(nt, 0);
  for (const RangeResidual& r : residuals)
    if (valid(r)) ++an[static_cast<std::size_t>(r.anchor)];
  std::vector<bool> a_ok(na), t_ok(nt);
  for (std::size_t i = 0; i < na; ++i) a_ok[i] = an[i] >= opt.min_ranges;
  for (const RangeResidual& r : residuals)
    if (valid(r) && a_ok[static_cast<std::size_t>(r.anchor)]) ++tn[static_cast<std::size_t>(r.tag)];
  for (std::size_t j = 0; j < nt; ++j) {
    c.tags[j].n = tn[j];
    t_ok[j] = tn[j] >= opt.min_ranges;
    if (!t_ok[j])
      c.tags[j].why = "only " + std::to_string(tn[j]) + " ranges with truth to calibrated anchors (at least " +
                      std::to_string(opt.min_ranges) + " needed)";
  }
  std::vector<std::uint64_t> an2(na, 0);
  for (const RangeResidual& r : residuals)
    if (valid(r) && t_ok[static_cast<std::size_t>(r.tag)]) ++an2[static_cast<std::size_t>(r.anchor)];
  for (std::size_t i = 0; i < na; ++i) {
    c.anchors[i].n = an[i];
    a_ok[i] = an[i] >= opt.min_ranges && an2[i] >= opt.min_ranges;
    if (!a_ok[i]) {
      const std::uint64_t have = an[i] < opt.min_ranges ? an[i] : an2[i];
      c.anchors[i].why = "only " + std::to_string(have) + " ranges with truth (at least " + std::to_string(opt.min_ranges) +
                         " needed; --min-ranges)";
    }
  }
  // the ranges of the fit, grouped
  std::vector<std::vector<std::size_t>> by_anchor(na), by_tag(nt);
  for (std::size_t k = 0; k < residuals.size(); ++k) {
    const RangeResidual& r = residuals[k];
    if (!valid(r) || !a_ok[static_cast<std::size_t>(r.anchor)] || !t_ok[static_cast<std::size_t>(r.tag)]) continue;
    by_anchor[static_cast<std::size_t>(r.anchor)].push_back(k);
    by_tag[static_cast<std::size_t>(r.tag)].push_back(k);
    ++c.ranges_used;
  }
  int tags_estimated = 0;
  for (std::size_t j = 0; j < nt; ++j) tags_estimated += t_ok[j] ? 1 : 0;
  c.tags_separable = tags_estimated >= 2;

  std::vector<double> a(na, 0.0), t(nt, 0.0), buf;
  auto anchor_pass = [&] {
    double moved = 0;
    for (std::size_t i = 0; i < na; ++i) {
      if (!a_ok[i]) continue;
      buf.clear();
      for (std::size_t k : by_anchor[i]) buf.push_back(residuals[k].e - t[static_cast<std::size_t>(residuals[k].tag)]);
      const double v = robust_location(buf, opt.trim_k);
      moved = std::max(moved, std::abs(v - a[i]));
      a[i] = v;
    }
    return moved;
  };
  if (!c.tags_separable) {
    anchor_pass();
    c.iterations = 1;
  } else {
    for (int it = 0; it < opt.max_iterations; ++it) {
      double moved = anchor_pass();
      for (std::size_t j = 0; j < nt; ++j) {
        if (!t_ok[j]) continue;
        buf.clear();
        for (std::size_t k : by_tag[j]) buf.push_back(residuals[k].e - a[static_cast<std::size_t>(residuals[k].anchor)]);
        const double v = robust_location(buf, opt.trim_k);
        moved = std::max(moved, std::abs(v - t[j]));
        t[j] = v;
      }
      // zero-mean tags: their common part belongs to the anchors
      double mean = 0;
      for (std::size_t j = 0; j < nt; ++j)
        if (t_ok[j]) mean += t[j];
      mean /= tags_estimated;
      for (std::size_t j = 0; j < nt; ++j)
        if (t_ok[j]) t[j] -= mean;
      for (std::size_t i = 0; i < na; ++i)
        if (a_ok[i]) a[i] += mean;
      c.iterations = it + 1;
      if (moved < opt.tolerance_m) break;
    }
  }
  // what is left after the fit: spread and inliers per anchor and per tag
  auto finish = [&](OffsetEstimate& est, const std::vector<std::size_t>& rows, double value) {
    est.estimated = true;
    est.offset = value;
    buf.clear();
    for (std::size_t k : rows) {
      const RangeResidual& r = residuals[k];
      buf.push_back(r.e - a[static_cast<std::size_t>(r.anchor)] - t[static_cast<std::size_t>(r.tag)]);
    }
    robust_location(buf, opt.trim_k, &est.used, &est.spread);
  };
  for (std::size_t i = 0; i < na; ++i)
    if (a_ok[i]) finish(c.anchors[i], by_anchor[i], a[i]);
  for (std::size_t j = 0; j < nt; ++j) {
    if (!t_ok[j]) continue;
    finish(c.tags[j], by_tag[j], t[j]);
    if (!c.tags_separable) {
      c.tags[j].offset = 0;
      c.tags[j].why = "one tag: its offset cannot be told from the anchors' and is folded into them";
    }
  }
  return c;
}

std::vector<RangeResidual> range_residuals(const Scenario& sc, const RecordedLog& log, std::optional<double> tag_height) {
  std::vector<RangeResidual> out;
  for (const RecordedRange& r : log.ranges) {
    auto it = log.truth.find(log.tags[static_cast<std::size_t>(r.tag)]);
    if (it == log.truth.end()) continue;
    const std::optional<TruthPoint> p = truth_at(it->second, r.t);
    if (!p) continue;
    const Anchor& a = sc.site.anchors[static_cast<std::size_t>(r.anchor)];
    const double dx = p->x - a.at[0], dy = p->y - a.at[1], dz = tag_height.value_or(p->z) - a.at[2];
    out.push_back({r.anchor, r.tag, r.d - std::sqrt(dx * dx + dy * dy + dz * dz)});
  }
  return out;
}

bool check_offsets(const Scenario& sc, const RangeOffsets& offsets, CalibrationCheck& out, std::string& error) {
  Scenario s = sc;
  s.recorded.twin.clear();  // the twin is simulated: calibration does not change it
  s.recorded.twin_scenario.reset();
  out.scenario = s.name;
  out.file = s.file;
  RunOptions o;
  if (!run_scenario(s, o, out.before, error)) return false;
  RangeOffsets use;
  for (const auto& [id, v] : offsets.anchors) {
    if (std::any_of(s.site.anchors.begin(), s.site.anchors.end(), [&](const Anchor& a) { return a.id == id; }))
      use.anchors[id] = v;
    else
      out.unused.push_back(id);
  }
  use.tags = offsets.tags;
  s.site.range_offsets = use;
  return run_scenario(s, o, out.after, error);
}

namespace {

using J = nlohmann::ordered_json;

J accuracy_j(const RunResult& r) {
  J j = J::object();
  if (r.accuracy) {
    const AccuracyStats& a = *r.accuracy;
    j = {{"n", a.n}, {"median", a.median}, {"rmse", a.rmse}, {"cdf68", a.cdf68}, {"p95", a.p95}, {"max", a.max}, {"mean", a.mean}};
  }
  if (r.recorded) j["fix_share"] = r.recorded->fix_share();
  j["passed"] = r.passed;
  return j;
}

J estimate_j(const OffsetEstimate& e) {
  J j = {{"id", e.id}, {"estimated", e.estimated}, {"offset", e.offset}, {"ranges", e.n}, {"used", e.used}, {"spread", e.spread}};
  if (!e.why.empty()) j["note"] = e.why;
  return j;
}

const AnchorResidual* residual_of(const RunResult& r, const std::string& anchor) {
  if (!r.recorded) return nullptr;
  for (const AnchorResidual& a : r.recorded->anchors)
    if (a.anchor == anchor) return &a;
  return nullptr;
}

std::vector<std::string> residual_anchors(const CalibrationCheck& c) {
  std::vector<std::string> ids;
  if (c.before.recorded)
    for (const AnchorResidual& a : c.before.recorded->anchors) ids.push_back(a.anchor);
  return ids;
}

}  // namespace

nlohmann::ordered_json calibration_json(const CalibrationReport& r) {
  J j;
  j["format"] = "planttwin-calibration/1";
  j["scenario"] = r.scenario;
  j["file"] = r.file;
  j["model"] = "measured = true + offset_anchor + offset_tag + noise (metres)";
  j["method"] = r.fit.tags_separable
                    ? "alternating robust locations (median, then mean within trim_k robust sigmas), tag offsets held at zero mean"
                    : "per anchor: robust location of the residuals (median, then mean within trim_k robust sigmas); one tag, folded into the anchors";
  j["min_ranges"] = r.options.min_ranges;
  j["trim_k"] = r.options.trim_k;
  j["truth_z_median"] = r.truth_z_median;
  j["tag_height"] = r.tag_height ? J(*r.tag_height) : J(nullptr);
  j["ranges"] = r.fit.ranges;
  j["ranges_used"] = r.fit.ranges_used;
  j["tags_separable"] = r.fit.tags_separable;
  j["iterations"] = r.fit.iterations;
  J an = J::array(), tg = J::array();
  for (const OffsetEstimate& e : r.fit.anchors) an.push_back(estimate_j(e));
  for (const OffsetEstimate& e : r.fit.tags) tg.push_back(estimate_j(e));
  j["anchors"] = an;
  j["tags"] = tg;
  j["offsets_file"] = r.offsets_file;
  j["site_line"] = r.site_line;
  J runs = J::array();
  for (const CalibrationCheck& c : r.checks) {
    J x;
    x["scenario"] = c.scenario;
    x["file"] = c.file;
    x["role"] = c.fit ? "fit" : "validation";
    x["before"] = accuracy_j(c.before);
    x["after"] = accuracy_j(c.after);
    J res = J::array();
    for (const std::string& id : residual_anchors(c)) {
      const AnchorResidual* b = residual_of(c.before, id);
      const AnchorResidual* a = residual_of(c.after, id);
      J e = {{"anchor", id}};
      if (b) e["before"] = {{"n", b->n}, {"bias", b->bias}, {"median", b->median}, {"spread", b->spread}};
      if (a) e["after"] = {{"n", a->n}, {"bias", a->bias}, {"median", a->median}, {"spread", a->spread}};
      res.push_back(e);
    }
    x["residuals"] = res;
    if (!c.unused.empty()) x["offsets_not_in_site"] = c.unused;
    runs.push_back(x);
  }
  j["runs"] = runs;
  return j;
}

std::string calibration_markdown(const CalibrationReport& r) {
  std::string m = "# 测距标定 Range calibration: " + r.scenario + "\n\n";
  m += "模型 Model: 测量距离 = 真实距离 + 基站偏差 + 标签偏差 + 噪声。measured = true + offset_anchor + offset_tag + noise (m).\n\n";
  m += "日志 Log `" + r.file + "`: " + std::to_string(r.fit.ranges) + " 个有真值的测距 ranges with truth, " +
       std::to_string(r.fit.ranges_used) + " 用于拟合 in the fit; 最少 minimum " + std::to_string(r.options.min_ranges) +
       " 个 per anchor and tag.\n\n";
  m += "真值高度 Truth height: 中位数 median z " + fmt(r.truth_z_median) + " m; " +
       (r.tag_height ? "残差按标签高度 residuals with the tag at z = " + fmt(*r.tag_height) + " m (--tag-height).\n\n"
                     : std::string("残差按真值自身高度 residuals at the truth's own z.\n\n"));
  m += r.fit.tags_separable
           ? "方法 Method: 交替稳健估计，标签偏差均值为零。Alternating robust locations (median, then the mean within " +
                 fmt(r.options.trim_k, 1) + " robust sigmas), the tags' offsets held at zero mean: their common part is in the anchors'.\n"
           : "方法 Method: 每个基站残差的稳健位置（中位数，再取 " + fmt(r.options.trim_k, 1) +
                 " 倍稳健标准差内的均值）。Per anchor, the robust location of its residuals (median, then the mean within " +
                 fmt(r.options.trim_k, 1) + " robust sigmas). 只有一个标签：标签偏差无法与基站偏差分开，已并入基站偏差。One tag: "
                 "its offset cannot be told from the anchors' and is folded into them.\n";
  m += "\n## 基站偏差 Anchor offsets\n\n| 基站 Anchor | 偏差 Offset (m) | 测距 Ranges | 采用 Used | 离散 Spread (m) | 说明 Note |\n|---|---|---|---|---|---|\n";
  auto row = [&](const OffsetEstimate& e) {
    m += "| " + e.id + " | " + (e.estimated ? fmt(e.offset, 4) : std::string("—")) + " | " + std::to_string(e.n) + " | " +
         std::to_string(e.used) + " | " + (e.estimated ? fmt(e.spread, 3) : std::string("—")) + " | " +
         (e.estimated ? e.why : "拒绝 refused: " + e.why) + " |\n";
  };
  for (const OffsetEstimate& e : r.fit.anchors) row(e);
  if (!r.fit.tags.empty()) {
    m += "\n## 标签偏差 Tag offsets\n\n| 标签 Tag | 偏差 Offset (m) | 测距 Ranges | 采用 Used | 离散 Spread (m) | 说明 Note |\n|---|---|---|---|---|---|\n";
    for (const OffsetEstimate& e : r.fit.tags) row(e);
  }
  if (!r.offsets_file.empty())
    m += "\n偏差文件 Offsets file: `" + r.offsets_file + "`; 场地文件加一行 add to the site file: `" + r.site_line + "`\n";
  m += "\n## 标定前后 Before and after\n\n水平误差 Horizontal error (m).\n\n"
       "| 场景 Scenario | 角色 Role | | 中位数 Median | RMSE | CDF 68.27% | P95 | 最大 Max | 定位率 Fix share | 预期 Expectations |\n"
       "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const CalibrationCheck& c : r.checks) {
    auto line = [&](const char* when, const RunResult& x) {
      m += "| " + c.scenario + " | " + (c.fit ? "拟合 fit" : "验证 validation") + " | " + when + " | ";
      if (x.accuracy)
        m += fmt(x.accuracy->median) + " | " + fmt(x.accuracy->rmse) + " | " + fmt(x.accuracy->cdf68) + " | " + fmt(x.accuracy->p95) +
             " | " + fmt(x.accuracy->max) + " | ";
      else
        m += "— | — | — | — | — | ";
      m += (x.recorded ? fmt(100 * x.recorded->fix_share(), 1) + " %" : std::string("—")) + " | " +
           (x.passed ? "通过 pass" : "未通过 fail") + " |\n";
    };
    line("前 before", c.before);
    line("后 after", c.after);
  }
  m += "\n## 基站残差 Residual bias per anchor\n\n残差 = 测量距离（减去偏差后）− 真实距离 (m)。Residual = measured (less the offsets) − true distance (m); "
       "均值 mean and 中位数 median" +
       std::string(r.tag_height ? "; 此表按真值自身高度计算 (不是 --tag-height)。this table is the runs' own, at the truth's z (not --tag-height)"
                                : "") +
       ".\n\n"
       "| 场景 Scenario | 基站 Anchor | 测距 Ranges | 均值前 Bias before | 均值后 Bias after | 中位前 Median before | 中位后 Median after |\n"
       "|---|---|---|---|---|---|---|\n";
  for (const CalibrationCheck& c : r.checks)
    for (const std::string& id : residual_anchors(c)) {
      const AnchorResidual* b = residual_of(c.before, id);
      const AnchorResidual* a = residual_of(c.after, id);
      m += "| " + c.scenario + " | " + id + " | " + std::to_string(b->n) + " | " + fmt(b->bias) + " | " + (a ? fmt(a->bias) : "—") +
           " | " + fmt(b->median) + " | " + (a ? fmt(a->median) : "—") + " |\n";
    }
  for (const CalibrationCheck& c : r.checks)
    if (!c.unused.empty()) {
      m += "\n" + c.scenario + ": 场地无此基站，偏差未用 offsets for anchors its site lacks, not used:";
      for (const std::string& id : c.unused) m += " " + id;
      m += "\n";
    }
  return m;
}

std::string offsets_yaml(const CalibrationReport& r) {
  std::string y = "# Range offsets (metres) estimated by `planttwin calibrate` from " + r.file + "\n";
  y += "# measured = true + anchor + tag; the solver uses d - anchor - tag (TWR). " + std::to_string(r.fit.ranges_used) +
       " ranges with truth, at least " + std::to_string(r.options.min_ranges) + " per anchor.\n";
  y += "# Name this file in the site (docs/site-v1.md): " + r.site_line + "\n";
  for (const OffsetEstimate& e : r.fit.anchors)
    if (!e.estimated) y += "# " + e.id + ": refused: " + e.why + "\n";
  if (!r.fit.tags_separable && !r.fit.tags.empty())
    y += "# One tag: its offset cannot be told from the anchors' and is folded into them (no tags: entry).\n";
  y += "anchors:\n";
  int n = 0;
  for (const OffsetEstimate& e : r.fit.anchors)
    if (e.estimated) y += "  " + yaml_key(e.id) + ": " + fmt(e.offset, 4) + "\n", ++n;
  if (n == 0) y.replace(y.size() - 1, 1, " {}\n");
  if (r.fit.tags_separable) {
    y += "tags:\n";
    for (const OffsetEstimate& e : r.fit.tags)
      if (e.estimated) y += "  " + yaml_key(e.id) + ": " + fmt(e.offset, 4) + "\n";
  }
  return y;
}

}  // namespace planttwin

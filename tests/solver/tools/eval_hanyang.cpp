// Issue 19: the four Hanyang outdoor walks (/work/shared/data/uwb-hanyang, README there) through the
// solver with default SolverParams, against the authors' least squares and ESKF (docs/solver.md §6).
// Not a test and not in the build (CI lacks the data; tests/solver/*.cpp only is globbed). Build by
// hand against a build tree, e.g.
//   g++ -std=c++20 -O2 -ffp-contract=off -I. tests/solver/tools/eval_hanyang.cpp sim/solver/solver.cpp
//       BUILD/engine/libplanttwin_engine.a -o eval_hanyang && ./eval_hanyang [-v]
// Epochs: ranges within 50 ms of the epoch's first range, epoch time = its latest stamp; 2D at the
// default tag height; truth interpolated linearly; the authors' window (x < 8.6, y < -7 ... x > 8.6,
// y < -7). Exit status 0 when every walk meets the targets of issue 19. Exploration overrides (not
// for reported figures): environment PN, HK, RS, KF, ROB, CHI, NK, HGT, DEG; DBG=walk T0= T1= prints
// the epochs of a time range of one walk.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sim/solver/solver.h"

using namespace planttwin;

const char* kDir = "/work/shared/data/uwb-hanyang/";

struct Meas { long long stamp; int anchor; double d, rssi, fp; };

static std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) f.push_back(c);
    rows.push_back(f);
  }
  return rows;
}
static double num(const std::string& s) {
  if (s.find("inf") != std::string::npos) return 0;  // -inf: unknown
  return std::strtod(s.c_str(), nullptr);
}

struct Stats { double rmse = 0, med = 0, max = 0; int n = 0; };
static Stats stats(std::vector<double> e) {
  Stats s;
  s.n = static_cast<int>(e.size());
  if (e.empty()) return s;
  std::sort(e.begin(), e.end());
  double ss = 0;
  for (double v : e) ss += v * v;
  s.rmse = std::sqrt(ss / static_cast<double>(e.size()));
  size_t n = e.size();
  s.med = n % 2 ? e[n / 2] : 0.5 * (e[n / 2 - 1] + e[n / 2]);
  s.max = e.back();
  return s;
}

int main(int argc, char** argv) {
  const char* walks[] = {"LOS_Trajectory_B_Case_3", "LOS_Trajectory_B_Case_4", "NLOS_Trajectory_B_Case_3",
                         "NLOS_Trajectory_B_Case_4"};
  const double ls_rmse[] = {0.522, 0.447, 0.639, 0.501}, eskf_rmse[] = {0.600, 0.484, 0.843, 0.501};
  bool verbose = argc > 1 && std::string(argv[1]) == "-v";
  SolverParams p;
  // exploration overrides: NAME=VALUE pairs in the environment (not used for the reported figures)
  if (const char* v = std::getenv("PN")) p.process_noise = std::atof(v);
  if (const char* v = std::getenv("DEG")) p.degenerate_sigma_m = std::atof(v);
  if (const char* v = std::getenv("HK")) p.huber_k = std::atof(v);
  if (const char* v = std::getenv("RS")) p.range_sigma_m = std::atof(v);
  if (const char* v = std::getenv("KF")) p.kalman = std::atoi(v) != 0;
  if (const char* v = std::getenv("ROB")) p.robust = std::atoi(v) != 0;
  if (const char* v = std::getenv("CHI")) p.gate_chi2 = std::atof(v);
  if (const char* v = std::getenv("NK")) p.nlos_innovation_k = std::atof(v);
  if (const char* v = std::getenv("HGT")) p.default_height_m = std::atof(v);
  bool all_ok = true;
  for (int w = 0; w < 4; ++w) {
    std::string dir = std::string(kDir) + walks[w] + "/";
    Site site;
    std::vector<Meas> ms;
    for (const char* an : {"A3", "A5", "A9", "A12"}) {
      auto rows = read_csv(dir + an + ".csv");
      Anchor a;
      a.id = an;
      a.at[0] = num(rows[0][3]);
      a.at[1] = num(rows[0][4]);
      a.at[2] = num(rows[0][5]);
      int idx = static_cast<int>(site.anchors.size());
      site.anchors.push_back(a);
      for (auto& r : rows) ms.push_back({std::stoll(r[1]), idx, num(r[6]), num(r[7]), num(r[8])});
    }
    std::sort(ms.begin(), ms.end(), [](const Meas& a, const Meas& b) { return a.stamp < b.stamp; });
    auto tr = read_csv(dir + "trajectory.csv");
    std::vector<double> tt, tx, ty;
    for (auto& r : tr) tt.push_back(num(r[0])), tx.push_back(num(r[1])), ty.push_back(num(r[2]));
    size_t i0 = 0;
    while (!(tx[i0] < 8.6 && ty[i0] < -7)) ++i0;
    size_t i1 = i0 + 1;
    while (!(tx[i1] > 8.6 && ty[i1] < -7)) ++i1;
    const double t0 = tt[i0], t1 = tt[i1];
    auto truth = [&](double t, double& x, double& y) {
      size_t k = std::upper_bound(tt.begin(), tt.end(), t) - tt.begin();
      if (k == 0 || k >= tt.size()) return false;
      double f = (t - tt[k - 1]) / (tt[k] - tt[k - 1]);
      x = tx[k - 1] + f * (tx[k] - tx[k - 1]);
      y = ty[k - 1] + f * (ty[k] - ty[k - 1]);
      return true;
    };
    // the authors' LS in the window
    std::vector<double> ls_err;
    for (auto& r : read_csv(dir + "LS.csv")) {
      double t = num(r[0]), x, y;
      if (t < t0 || t > t1 || !truth(t, x, y)) continue;
      ls_err.push_back(std::hypot(num(r[1]) - x, num(r[2]) - y));
    }
    Solver solver(site, p);
    std::vector<double> err;
    int epochs = 0, in_window = 0, degenerate = 0, nlos = 0, ranges_n = 0;
    std::map<std::string, int> reasons;
    for (size_t i = 0; i < ms.size();) {
      size_t j = i;
      std::vector<RangeObs> obs;
      long long last = ms[i].stamp;
      while (j < ms.size() && ms[j].stamp - ms[i].stamp <= 50'000'000LL) {
        obs.push_back({ms[j].anchor, ms[j].d, ms[j].rssi, ms[j].fp});
        last = std::max(last, ms[j].stamp);
        ++j;
      }
      i = j;
      ++epochs;
      const double te = static_cast<double>(last);
      auto f = solver.solve_twr(1, last / 1000, obs);
      const bool win = te >= t0 && te <= t1;
      in_window += win;
      if (!f && win) reasons[to_string(solver.last_no_fix())]++;
      if (f && win) {
        degenerate += f->degenerate;
        nlos += f->nlos_suspected;
        ranges_n += static_cast<int>(obs.size());
      }
      double x = 0, y = 0;
      if (const char* dbg = std::getenv("DBG"); dbg && w == std::atoi(dbg) && win) {
        double tr_s = (te - t0) / 1e9;
        if (tr_s >= std::atof(std::getenv("T0")) && tr_s <= std::atof(std::getenv("T1"))) {
          truth(te, x, y);
          std::printf("  t=%.2f truth=(%.2f,%.2f)", tr_s, x, y);
          for (auto& o : obs) std::printf(" [a%d %.2f %.0f/%.0f]", o.anchor, o.d, o.rx_dbm, o.fp_dbm);
          if (f) std::printf(" -> (%.2f,%.2f) e=%.2f deg=%d smaj=%.2f ssmaj=%.2f nlos=%d rej=%d rms=%.2f\n", f->x, f->y, std::hypot(f->x - x, f->y - y), f->degenerate, f->sigma_major_m, f->solve_sigma_major_m, f->nlos_suspected, f->anchors_rejected, f->residual_rms);
          else std::printf(" -> none %s\n", to_string(solver.last_no_fix()));
        }
      }
      if (!f || !win || !truth(te, x, y)) continue;
      double e = std::hypot(f->x - x, f->y - y);
      err.push_back(e);
      if (verbose && e > 2.0)
        std::printf("  %s t=%.1f err=%.2f fix=(%.2f,%.2f) truth=(%.2f,%.2f) n=%zu sigma=%.2f\n", walks[w],
                    (te - t0) / 1e9, e, f->x, f->y, x, y, obs.size(), f->sigma_m);
    }
    Stats a = stats(ls_err), s = stats(err);
    const double target = std::min(ls_rmse[w], eskf_rmse[w]);
    bool ok = s.rmse <= target && s.med <= a.med && s.max <= 5 && s.n >= 0.9 * a.n;
    all_ok = all_ok && ok;
    std::printf("%-26s planttwin rmse %.4f med %.4f max %.2f n %4d | LS rmse %.4f med %.4f max %.2f n %4d | target rmse<=%.3f n>=%d %s\n",
                walks[w], s.rmse, s.med, s.max, s.n, a.rmse, a.med, a.max, a.n, target,
                static_cast<int>(std::ceil(0.9 * a.n)), ok ? "OK" : "FAIL");
    std::printf("    window epochs %d, degenerate %d, nlos_suspected %d of %d ranges, no-fix:", in_window, degenerate,
                nlos, ranges_n);
    for (auto& [k, v] : reasons) std::printf(" %s %d", k.c_str(), v);
    std::printf("\n");
  }
  std::printf(all_ok ? "ALL OK\n" : "NOT ALL OK\n");
  return all_ok ? 0 : 1;
}

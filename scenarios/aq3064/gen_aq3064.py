#!/usr/bin/env python3
"""Writes the AQ 3064.3-2025 App. A test scenarios of this folder and their site.

The files are plain YAML and may be read and edited by hand; this script only saves typing the
100 marks of the dynamic route and the repeated gather / disperse cycles. Run it from anywhere:

    python3 scenarios/aq3064/gen_aq3064.py

and commit the YAML it writes next to itself. Standard library only. The site lives in sites/ so
that `planttwin run scenarios/aq3064` (every *.yaml of the folder, not recursive) runs only the
scenarios.
"""
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------------------------
# The test field
# ---------------------------------------------------------------------------------------------
BUILDING = [(100, 20), (180, 20), (180, 100), (100, 100)]  # workshop 80 m x 80 m, one high bay
TANK = {"center": (78, 70), "radius": 5, "z": (0, 12)}

# static survey points: 3 outdoors ("with GNSS"), 3 in the workshop ("without GNSS"), >= 15 m apart
STATIC = [("S1", 20, 15), ("S2", 45, 45), ("S3", 70, 88), ("S4", 115, 35), ("S5", 140, 75), ("S6", 165, 45)]

# dynamic route: 500 m, 100 marks every 5 m; 60 of them inside the workshop
ROUTE = [(12, 10), (90, 10), (90, 50), (100, 50),          # yard, 128 m, then through the west door
         (170, 50), (170, 90), (110, 90), (110, 30), (170, 30), (170, 20),  # workshop, 300 m
         (170, 10), (108, 10)]                            # out of the south door, yard, 72 m

# fences (15 m squares, App. A fence test), north of the workshop
FM = (110, 125)  # south-west corners
FF = (140, 125)
FR = (170, 125)


def anchors():
    out = []
    # yard poles on a 25 x 30 m grid, 4 m high
    for y in (0, 30, 60, 90, 120, 150):
        for x in (0, 25, 50, 75, 95):
            out.append((x, y, 4))
    # outside walls of the workshop (south and north), and the strip east and north of it
    for x in (115, 140, 165, 190):
        out.append((x, 19, 4))
        out.append((x, 101, 4))
    for x in (120, 145, 170, 195):
        out.append((x, 0, 4))
        out.append((x, 120, 4))
        out.append((x, 150, 4))
    for y in (40, 70):
        out.append((195, y, 4))
    # inside the workshop on a ~25 m grid, on columns and walls at 4 m
    for y in (22, 48, 74, 98):
        for x in (102, 127, 153, 178):
            out.append((x, y, 4))
    return out


def route_marks():
    """Points every 5 m along ROUTE (arc length 5, 10, ..., 500), with the corners passed before each."""
    segs = []
    total = 0.0
    for a, b in zip(ROUTE, ROUTE[1:]):
        L = math.dist(a, b)
        segs.append((a, b, total, total + L))
        total += L
    assert abs(total - 500) < 1e-9, total
    marks = []
    for i in range(1, 101):
        s = 5.0 * i
        for a, b, s0, s1 in segs:
            if s0 <= s <= s1 + 1e-9:
                f = (s - s0) / (s1 - s0)
                marks.append((round(a[0] + f * (b[0] - a[0]), 3), round(a[1] + f * (b[1] - a[1]), 3), s))
                break
    corners = []  # corners strictly between mark i-1 and mark i
    for i in range(100):
        s_prev, s_cur = 5.0 * i, 5.0 * (i + 1)
        cs = [b for a, b, s0, s1 in segs if s_prev < s1 < s_cur - 1e-9]
        corners.append(cs)
    return marks, corners


def inside(p, poly):
    x, y = p
    n = len(poly)
    c = False
    for i in range(n):
        (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            c = not c
    return c


def fmt(v):
    if isinstance(v, float):
        return ("%.3f" % v).rstrip("0").rstrip(".")
    return str(v)


def pt(p):
    return "[" + ", ".join(fmt(v) for v in p) + "]"


def sq(corner, side=15):
    x, y = corner
    return [(x, y), (x + side, y), (x + side, y + side), (x, y + side)]


# ---------------------------------------------------------------------------------------------
def write_site():
    os.makedirs(os.path.join(HERE, "sites"), exist_ok=True)
    marks, _ = route_marks()
    L = []
    w = L.append
    w("# AQ 3064.3-2025 App. A test field / 附录A 测试场 (site format v1, spec/site-v1.md).")
    w("# Written by gen_aq3064.py (same folder); plain YAML, may be edited by hand.")
    w("#")
    w("#   y")
    w("#  160 +-------------------------------------------------------------+")
    w("#       |  yard 空地                 FM    FF    FR  (15 m fences)     |")
    w("#  100  |        gathering G2     +-----------------------+           |")
    w("#       |   tank TK1 (78,70)      |  workshop WS 厂房      |           |")
    w("#       |   gathering G1          |  80 m x 80 m, 1 bay    |           |")
    w("#   20  |                         +-----------------------+           |")
    w("#    0  +-------------------------------------------------------------+ x")
    w("#       0                        100                     180        200")
    w("#")
    w("# Anchors: 4 m high on a ~25 m grid in the yard, on the workshop's outer walls and inside it")
    w("# (every anchor at one height: the solver works in 2D at the tag height, docs/solver.md).")
    w("# Survey points: S1-S3 outdoors (App. A: \"with GNSS\"), S4-S6 in the workshop (\"without GNSS\"),")
    w("# >= 15 m apart; R001-R100 the marks of the 500 m dynamic route, every 5 m, 60 of them indoors.")
    w("site: AQ3064.3 附录A 测试场 App. A test field")
    w("bounds: [[0, 0], [200, 0], [200, 160], [0, 160]]")
    w("floors:")
    w("  - {id: 1, z: [-1, 4]}")
    w("buildings:")
    w("  - id: WS                      # 厂房 workshop, one high bay")
    w("    footprint: " + "[" + ", ".join(pt(p) for p in BUILDING) + "]")
    w("    floors:")
    w("      - {id: 1, z: [0, 8]}")
    w("    wall: {material: concrete, thickness: 0.24}")
    w("obstacles:")
    c = TANK["center"]
    w("  - {id: TK1, shape: cylinder, center: %s, radius: %s, z: %s, material: steel}   # 储罐 steel tank"
      % (pt(c), fmt(TANK["radius"]), pt(TANK["z"])))
    w("zones:")
    w("  # App. A fence test: 15 m squares, over-capacity threshold 4 (FM: missed-alert case, FF: false-alert")
    w("  # case) and a restricted square for boundary crossing (FR: operators only).")
    w("  - {id: FM, name: 漏报测试围栏 missed-alert fence, kind: high_risk, risk: yellow, capacity: 4,")
    w("     polygon: " + "[" + ", ".join(pt(p) for p in sq(FM)) + "]}")
    w("  - {id: FF, name: 误报测试围栏 false-alert fence, kind: high_risk, risk: yellow, capacity: 4,")
    w("     polygon: " + "[" + ", ".join(pt(p) for p in sq(FF)) + "]}")
    w("  - {id: FR, name: 越界测试围栏 restricted fence, kind: major_hazard, risk: yellow,")
    w("     authorized: {roles: [operator]},")
    w("     polygon: " + "[" + ", ".join(pt(p) for p in sq(FR)) + "]}")
    w("anchors:")
    for i, a in enumerate(anchors()):
        w("  - {id: A%02d, at: %s}" % (i + 1, pt(a)))
    w("survey_points:")
    for sid, x, y in STATIC:
        w("  - {id: %s, at: %s}%s" % (sid, pt((x, y, 0)), "   # indoors" if inside((x, y), BUILDING) else ""))
    for i, (x, y, s) in enumerate(marks):
        w("  - {id: R%03d, at: %s}   # route %s m%s" % (i + 1, pt((x, y, 0)), fmt(s), ", indoors" if inside((x, y), BUILDING) else ""))
    with open(os.path.join(HERE, "sites", "site-aq3064.yaml"), "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")
    n_in = sum(1 for x, y, _ in marks if inside((x, y), BUILDING))
    assert n_in == 60, n_in


# ---------------------------------------------------------------------------------------------
HEAD_RULES_QUIET = "  stationary: {radius: 1, after: 2h}    # standing still is the test, not a man-down"


def write_static():
    L = []
    w = L.append
    w("# H-05 / H-06: AQ 3064.3-2025 App. A static accuracy test. Written by gen_aq3064.py.")
    w("#")
    w("# App. A: 6 sites (3 with GNSS, 3 without), >= 15 m apart; power on, wait 2 min, then 10 min on")
    w("# each site with a fix every 2 s; at least 300 fixes; the result is the 68.27 % point of the error")
    w("# CDF, which must be <= 3 m (blue/yellow zones). Here six tags stand on the six survey points")
    w("# S1-S6 at once for the 10 min (the same fixes as one tag visiting them in turn: 6 x 300), and")
    w("# every fix from power-on counts: the 2 min warm-up is not excluded (stricter than App. A).")
    w("scenario: aq3064-static-accuracy")
    w("description: >")
    w("  AQ 3064.3 App. A static accuracy: six tags on the surveyed points S1-S6 (three in the open")
    w("  yard, three in the workshop) for 10 min, a fix every 2 s; CDF 68.27 % of the error <= 3 m.")
    w("  AQ 3064.3 附录A静态精度测试：6个终端分别静置于测试点S1-S6（3个室外、3个厂房内）10分钟，每2秒一次定位；")
    w("  误差累积分布68.27%处的值不大于3米。")
    w("requirements: [H-05, H-06]")
    w("site: sites/site-aq3064.yaml")
    w("duration: 10min")
    w("seed: 3064")
    w("positioning: simulated")
    w("fix_rate: 0.5")
    w("rules:")
    w(HEAD_RULES_QUIET)
    w("people:")
    for i, (sid, x, y) in enumerate(STATIC):
        w("  - {id: P%d, name: 测试员%d tester %d, tag: T-%s, at: %s}   # on %s" % (i + 1, i + 1, i + 1, sid, pt((x, y)), sid))
    w("expect:")
    w("  - {accuracy: {cdf68_max: 3.0}, req: H-06}")
    w("  - {no_alarm: tag_offline, req: H-05}       # every tag is positioned throughout")
    with open(os.path.join(HERE, "static-accuracy.yaml"), "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")


def write_dynamic():
    marks, corners = route_marks()
    t0 = 10
    L = []
    w = L.append
    w("# H-05 / H-06: AQ 3064.3-2025 App. A dynamic accuracy test. Written by gen_aq3064.py.")
    w("#")
    w("# App. A: a 500 m route with 100 marked points, at least 60 % of them without GNSS; walk at")
    w("# >= 1 m/s and stop 10 s on each mark; the first fix after T+5 s counts, a fix later than T+10 s is")
    w("# invalid (> 95 % must be valid); the 68.27 % point of the error CDF must be <= 5 m.")
    w("# Here: the route R001-R100 of the site (60 marks in the workshop), 1 m/s, 10 s on every mark,")
    w("# a fix every second. The report's accuracy covers every fix of the walk, moving and standing,")
    w("# which is stricter than App. A's one fix per mark.")
    w("scenario: aq3064-dynamic-accuracy")
    w("description: >")
    w("  AQ 3064.3 App. A dynamic accuracy: one tester walks the 500 m route with 100 marks (60 in the")
    w("  workshop) at 1 m/s and stops 10 s on each mark; CDF 68.27 % of the error <= 5 m.")
    w("  AQ 3064.3 附录A动态精度测试：测试员以1米/秒沿500米路线行走，途经100个标记点（60个在厂房内），每点停留10秒；")
    w("  误差累积分布68.27%处的值不大于5米。")
    w("requirements: [H-05, H-06]")
    w("site: sites/site-aq3064.yaml")
    dur = t0 + 15 * 100 + 5
    w("duration: %ds" % dur)
    w("seed: 3064")
    w("positioning: simulated")
    w("fix_rate: 1")
    w("rules:")
    w(HEAD_RULES_QUIET)
    w("people:")
    w("  - {id: W1, name: 测试员 walker, tag: T-W1, at: %s}" % pt(ROUTE[0]))
    w("script:")
    w("  # mark i: leave mark i-1 at t = %d + 15 (i - 1) s, 5 m at 1 m/s, then 10 s on the mark" % t0)
    for i, (x, y, s) in enumerate(marks):
        t = t0 + 15 * i
        path = [pt(c) for c in corners[i]] + [pt((x, y))]
        w("  - {t: %ds, who: W1, walk: [%s], speed: 1.0}   # R%03d" % (t, ", ".join(path), i + 1))
    w("expect:")
    w("  - {accuracy: {cdf68_max: 5.0}, req: H-06}")
    with open(os.path.join(HERE, "dynamic-accuracy.yaml"), "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")


def polar(c, r, deg):
    a = math.radians(deg)
    return (round(c[0] + r * math.cos(a), 3), round(c[1] + r * math.sin(a), 3))


def write_gathering():
    G1, G2 = (30, 40), (55, 100)
    angles = [90, 162, 234, 306, 18]
    cycle, t0, n = 240, 10, 5
    people = []  # (id, spot, home)
    people.append(("M0", G1, G1))
    for i, a in enumerate(angles):
        people.append(("M%d" % (i + 1), polar(G1, 12, a), polar(G1, 28, a)))
    people.append(("F0", G2, G2))
    for i, a in enumerate([0, 90, 180, 270]):
        people.append(("F%d" % (i + 1), polar(G2, 12, a), polar(G2, 28, a)))
    people.append(("F5", polar(G2, 20, 0), polar(G2, 40, 0)))
    L = []
    w = L.append
    w("# H-05 / H-06 / PL-02: AQ 3064.3-2025 App. A gathering test, missed and false alarms against the")
    w("# oracle twin. Written by gen_aq3064.py.")
    w("#")
    w("# App. A: radius 15 m, threshold 6. Missed-alert layout: one terminal at the centre and five on a")
    w("# 12 m circle (an alarm is due). False-alert layout: one at the centre, four on the 12 m circle and")
    w("# one outside the 18 m circle (here at 20 m; no alarm is due: F3 and F5 are 32 m apart, so at")
    w("# most five fit in one 15 m disk). Sampling every <= 5 s for >= 10 min.")
    w("# Here both layouts gather and disperse %d times (%d s cycles: walk in, hold 140 s, walk out to" % (n, cycle))
    w("# 28 m, wait), %d min in all. The threshold 6 is the lowest tier (yellow: 6; orange and red" % ((t0 + n * cycle) // 60))
    w("# moved to 7 and 8) as in acceptance/pl02-aq3064-gathering.yaml. The alarms from the simulated")
    w("# fixes are compared with the oracle twin's on true positions: missed < 10 %, false < 15 %")
    w("# (AQ 3064.3 7.3.2). The runner compares alarms (type, people, raise time within 10 s), one per")
    w("# gathering, rather than App. A's 5 s samples; each sample after the dwell would see the same.")
    w("scenario: aq3064-gathering-quality")
    w("description: >")
    w("  AQ 3064.3 App. A gathering test with radius 15 m and threshold 6, repeated %d times: the" % n)
    w("  missed-alert layout (centre + 5 on a 12 m circle) must alarm every time, the false-alert layout")
    w("  (centre + 4 on the circle + 1 at 20 m) never; simulated positioning against the oracle twin.")
    w("  AQ 3064.3 附录A聚集测试（半径15米、阈值6人）重复%d次：漏报工况（中心1个、12米圆上5个）每次均须报警，" % n)
    w("  误报工况（中心1个、12米圆上4个、20米处1个）不得报警；仿真定位与真值孪生对比漏报率、误报率。")
    w("requirements: [PL-02, H-05, H-06]")
    w("site: sites/site-aq3064.yaml")
    w("duration: %ds" % (t0 + n * cycle))
    w("seed: 3064")
    w("positioning: simulated")
    w("fix_rate: 1")
    w("rules:")
    w("  gathering: {radius: 15, dwell: 60s, yellow: 6, orange: 7, red: 8, confirm_close_from: orange}")
    w(HEAD_RULES_QUIET)
    w("people:")
    for pid, spot, home in people:
        w("  - {id: %s, tag: T-%s, at: %s}" % (pid, pid, pt(home)))
    w("script:")
    for k in range(n):
        tc = t0 + k * cycle
        w("  # cycle %d: gather at %ds, disperse at %ds" % (k + 1, tc, tc + 160))
        for pid, spot, home in people:
            if spot != home:
                w("  - {t: %ds, who: %s, go_to: %s}" % (tc, pid, pt(spot)))
        for pid, spot, home in people:
            if spot != home:
                w("  - {t: %ds, who: %s, go_to: %s}" % (tc + 160, pid, pt(home)))
    w("expect:")
    w("  # the walk in takes <= 17 s (F5: 20 m at 1.2 m/s); an alarm > 60 s after the last arrival")
    for k in range(n):
        tc = t0 + k * cycle
        w("  - {alarm: gathering, who: M0, between: [%ds, %ds], count: 1, req: PL-02}" % (tc + 60, tc + 90))
    w("  - {no_alarm: gathering, who: F0, req: PL-02}")
    w("  - {no_alarm: gathering, who: F5, req: PL-02}")
    w("  - {alarm_quality: {missed_max: 0.10, false_max: 0.15}, req: H-06}")
    w("  - {alarm_delay: {p95_max: 5s}, req: H-06}")
    with open(os.path.join(HERE, "gathering-quality.yaml"), "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")


def write_fence():
    cycle, t0, n = 120, 10, 6
    people = []  # (id, category, roles, spot, home)
    x, y = FM
    for i, s in enumerate([(x + 3, y + 3), (x + 12, y + 3), (x + 12, y + 12), (x + 3, y + 12), (x + 7.5, y + 3)]):
        people.append(("M%d" % (i + 1), "employee", ["operator"], s, (s[0], y - 12 - (s[1] - y - 3))))
    x, y = FF
    for i, s in enumerate([(x + 3, y + 3), (x + 12, y + 3), (x + 12, y + 12), (x + 3, y + 12)]):
        people.append(("F%d" % (i + 1), "employee", ["operator"], s, (s[0], y - 12 - (s[1] - y - 3))))
    people.append(("F5", "employee", ["operator"], (x + 7.5, y - 3), (x + 7.5, y - 15)))  # stays 3 m outside
    x, y = FR
    people.append(("V1", "visitor", [], (x + 7.5, y + 3), (x + 7.5, y - 12)))    # 3 m inside: crossing due
    people.append(("V2", "visitor", [], (x + 12, y - 3), (x + 12, y - 15)))     # 3 m outside: none due
    L = []
    w = L.append
    w("# H-05 / H-06 / PL-04 / PL-05: AQ 3064.3-2025 App. A electronic-fence test, missed and false alarms")
    w("# against the oracle twin. Written by gen_aq3064.py.")
    w("#")
    w("# App. A: 15 m square fence, over-capacity threshold 4, terminals 3 m inside the edge or 3 m")
    w("# outside it, sampled every <= 5 s for >= 10 min. Here, %d times (%d s cycles, %d min in all):" % (n, cycle, (t0 + n * cycle) // 60))
    w("#  - FM (missed-alert case): five terminals walk to 3 m inside: over_capacity is due each time;")
    w("#  - FF (false-alert case): four walk to 3 m inside and one to 3 m outside: never due;")
    w("#  - FR (operators only): a visitor walks to 3 m inside (boundary_crossing due), another to 3 m")
    w("#    outside (never due).")
    w("# They hold until 60 s into the cycle, then walk back 12-30 m out and wait. Alarms from simulated fixes against the")
    w("# oracle twin's on true positions: missed < 10 %, false < 15 %; the warning within 5 s of the true")
    w("# event (PL-05). Gathering is switched off here (tiers 20+) so that only the fence rules are")
    w("# compared, and the App. A samples are taken once everyone stands (the dwell, > 10 s after the")
    w("# walk starts): the expectations' windows start there.")
    w("scenario: aq3064-fence-quality")
    w("description: >")
    w("  AQ 3064.3 App. A fence test repeated %d times: 5 terminals 3 m inside a 15 m fence with capacity 4" % n)
    w("  raise over_capacity; 4 inside and 1 outside 3 m do not; a visitor 3 m inside a restricted fence")
    w("  raises boundary_crossing, one 3 m outside does not. Simulated positioning against the oracle twin.")
    w("  AQ 3064.3 附录A电子围栏测试重复%d次：15米见方、超员阈值4人的围栏内3米处5个终端应报超员，内4个外1个不应报警；" % n)
    w("  访客进入限制围栏3米应报越界，在外3米不应报警；仿真定位与真值孪生对比漏报率、误报率。")
    w("requirements: [PL-04, PL-05, H-05, H-06]")
    w("site: sites/site-aq3064.yaml")
    w("duration: %ds" % (t0 + n * cycle))
    w("seed: 3064")
    w("positioning: simulated")
    w("fix_rate: 1")
    w("rules:")
    w("  gathering: {radius: 15, dwell: 60s, yellow: 20, orange: 21, red: 22}   # not under test here")
    w(HEAD_RULES_QUIET)
    w("people:")
    for pid, cat, roles, spot, home in people:
        r = ", roles: [%s]" % ", ".join(roles) if roles else ""
        w("  - {id: %s, category: %s%s, tag: T-%s, at: %s}" % (pid, cat, r, pid, pt(home)))
    w("script:")
    for k in range(n):
        tc = t0 + k * cycle
        w("  # cycle %d: in at %ds, out at %ds" % (k + 1, tc, tc + 60))
        for pid, cat, roles, spot, home in people:
            w("  - {t: %ds, who: %s, go_to: %s}" % (tc, pid, pt(spot)))
        for pid, cat, roles, spot, home in people:
            w("  - {t: %ds, who: %s, go_to: %s}" % (tc + 60, pid, pt(home)))
    w("expect:")
    w("  # walking in at 1.2 m/s: the last of FM's five crosses the edge after 20 m (17 s)")
    for k in range(n):
        tc = t0 + k * cycle
        w("  - {alarm: over_capacity, zone: FM, between: [%ds, %ds], count: 1, req: PL-05}" % (tc, tc + 25))
        w("  - {alarm: boundary_crossing, who: V1, between: [%ds, %ds], count: 1, req: PL-05}" % (tc, tc + 20))
    w("  - {no_alarm: over_capacity, zone: FF, req: PL-05}")
    w("  - {no_alarm: boundary_crossing, who: V2, req: PL-05}")
    w("  - {alarm_quality: {missed_max: 0.10, false_max: 0.15}, req: H-06}")
    w("  - {alarm_delay: {p95_max: 5s}, req: H-06}")
    with open(os.path.join(HERE, "fence-quality.yaml"), "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    write_site()
    write_static()
    write_dynamic()
    write_gathering()
    write_fence()

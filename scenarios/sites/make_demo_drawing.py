#!/usr/bin/env python3
"""Draws demo-plant.yaml as a CAD layout drawing would hold it: demo-plant.dxf (R2000, millimetres,
GBK texts, drawing origin at (125000, 48000) mm). `planttwin import demo-plant.dxf --map
demo-plant.map.yaml --out demo-plant-imported.yaml` makes the site back (docs/import.md).
Needs python3-ezdxf and python3-yaml (Debian). Run: /usr/bin/python3 scenarios/sites/make_demo_drawing.py"""
import os
import yaml
import ezdxf

HERE = os.path.dirname(os.path.abspath(__file__))
ORIGIN = (125000.0, 48000.0)  # mm; the map's `origin`

# obstacle id -> layer (each layer: one height band and material, see demo-plant.map.yaml)
OBSTACLE_LAYER = {
    "TK-101": "TANK", "TK-102": "TANK", "TK-103": "TANK", "TK-104": "TANK", "TK-105": "TANK",
    "TK-106": "TANK-16", "BUND-S": "BUND", "BUND-N": "BUND", "BUND-W": "BUND", "BUND-E": "BUND",
    "PR-EW": "PIPERACK", "PR-NS": "PIPERACK", "PR-TF": "PIPERACK", "R-101": "REACTOR",
    "T-201": "COLUMN", "DECK-P1": "PLATFORM", "LG-1": "GANTRY",
}
BUILDING_LAYER = {"OB": "BLDG-OFFICE", "WHB": "BLDG-STORE"}
BUILDING_NAME = {"OB": "综合楼", "WHB": "仓库"}


def mm(x, y, z=0.0):
    return (ORIGIN[0] + x * 1000.0, ORIGIN[1] + y * 1000.0, z * 1000.0)


def main():
    site = yaml.safe_load(open(os.path.join(HERE, "demo-plant.yaml"), encoding="utf-8"))
    doc = ezdxf.new("R2000")
    doc.header["$INSUNITS"] = 4
    doc.encoding = "cp936"
    msp = doc.modelspace()
    layers = set()

    def layer(name):
        if name not in layers:
            doc.layers.add(name)
            layers.add(name)
        return {"layer": name}

    def outline(points, lay):
        msp.add_lwpolyline([mm(x, y)[:2] for x, y in points], close=True, dxfattribs=layer(lay))

    def label(text, x, y, lay):
        msp.add_text(text, dxfattribs={**layer(lay), "insert": mm(x, y)[:2], "height": 1500})

    outline(site["bounds"], "围墙")
    for b in site["buildings"]:
        outline(b["footprint"], BUILDING_LAYER[b["id"]])
        xs = [p[0] for p in b["footprint"]]
        ys = [p[1] for p in b["footprint"]]
        label(b["id"] + " " + BUILDING_NAME[b["id"]], sum(xs) / len(xs), sum(ys) / len(ys), BUILDING_LAYER[b["id"]])
    for o in site["obstacles"]:
        lay = OBSTACLE_LAYER[o["id"]]
        if o["shape"] == "cylinder":
            cx, cy = o["center"]
            msp.add_circle(mm(cx, cy)[:2], o["radius"] * 1000.0, dxfattribs=layer(lay))
            label(o["id"], cx, cy, lay)
        else:
            (x0, y0, _), (x1, y1, _) = o["min"], o["max"]
            outline([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], lay)
            label(o["id"], (x0 + x1) / 2, (y0 + y1) / 2, lay)
    for z in site["zones"]:
        lay = "ZONE-" + z["id"]
        outline(z["polygon"], lay)
        xs = [p[0] for p in z["polygon"]]
        ys = [p[1] for p in z["polygon"]]
        label(z["id"] + " " + z["name"], sum(xs) / len(xs), sum(ys) / len(ys), lay)
    # anchors and cameras: block inserts; the insert's z is the mounting height, ID (and the
    # camera's PITCH, HFOV, VFOV, RANGE) are attributes
    uwb = doc.blocks.new("UWB")
    uwb.add_circle((0, 0), 250)
    uwb.add_attdef("ID", (0, 300))
    cam = doc.blocks.new("CAM")
    cam.add_lwpolyline([(0, 0), (1200, 400), (1200, -400)], close=True)
    for tag in ("ID", "PITCH", "HFOV", "VFOV", "RANGE"):
        cam.add_attdef(tag, (0, 0))
    for a in site["anchors"]:
        ref = msp.add_blockref("UWB", mm(*a["at"]), dxfattribs=layer("UWB-ANCHOR"))
        ref.add_attrib("ID", a["id"], mm(*a["at"]))
    for c in site["cameras"]:
        ref = msp.add_blockref("CAM", mm(*c["at"]), dxfattribs={**layer("CCTV"), "rotation": c["yaw_deg"]})
        for tag, key in (("ID", "id"), ("PITCH", "pitch_deg"), ("HFOV", "hfov_deg"), ("VFOV", "vfov_deg"), ("RANGE", "range")):
            ref.add_attrib(tag, str(c[key]), mm(*c["at"]))
    # what a real drawing also holds: roads, dimensions, a title: on layers the map leaves out
    msp.add_line(mm(0, 100)[:2], mm(400, 100)[:2], dxfattribs=layer("ROAD"))
    msp.add_line(mm(239, 0)[:2], mm(239, 300)[:2], dxfattribs=layer("ROAD"))
    msp.add_text("演示化工厂总平面布置图 1:500", dxfattribs={**layer("TITLE"), "insert": mm(150, -15)[:2], "height": 4000})
    path = os.path.join(HERE, "demo-plant.dxf")
    doc.saveas(path)
    data = open(path, "rb").read().replace(b"ANSI_1252", b"ANSI_936")  # ezdxf leaves the code page at 1252
    open(path, "wb").write(data)


if __name__ == "__main__":
    main()

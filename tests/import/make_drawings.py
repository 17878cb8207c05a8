#!/usr/bin/env python3
"""Writes the test drawings of tests/import/data (checked in; rerun after changing this file).
Needs python3-ezdxf (Debian). Run: /usr/bin/python3 tests/import/make_drawings.py"""
import os
import ezdxf

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def new(units=4, codepage=None):
    doc = ezdxf.new("R2000")
    doc.header["$INSUNITS"] = units
    if codepage:
        doc.encoding = "cp936"
    return doc


def save(doc, name, codepage=None):
    path = os.path.join(HERE, name)
    doc.saveas(path)
    if codepage:  # ezdxf writes GBK bytes but leaves the header's code page at ANSI_1252
        data = open(path, "rb").read().replace(b"ANSI_1252", codepage.encode())
        open(path, "wb").write(data)


def plant(v2=False):
    """Every entity type the importer reads, in millimetres, GBK (ANSI_936) texts. v2: the drawing
    after a change (tank farm 5 m wider, the second tank gone, one more anchor) for --update."""
    doc = new(4, "ANSI_936")
    msp = doc.modelspace()
    for n in ["ZONE-TANK", "ZONE-LOAD", "BUILDING", "TANK", "RACK", "ANCHOR", "CAMERA", "BOUNDARY", "LABEL", "MISC"]:
        doc.layers.add(n)
    o = (125000, 48000)  # the map's origin

    def p(x, y):
        return (o[0] + x * 1000, o[1] + y * 1000)

    msp.add_lwpolyline([p(0, 0), p(200, 0), p(200, 150), p(0, 150)], close=True, dxfattribs={"layer": "BOUNDARY"})
    # tank farm: closed, named "TF 罐区" (id TF, name 罐区)
    east = 185 if v2 else 180
    msp.add_lwpolyline([p(100, 80), p(east, 80), p(east, 140), p(100, 140)], close=True, dxfattribs={"layer": "ZONE-TANK"})
    msp.add_text("TF 罐区", dxfattribs={"layer": "ZONE-TANK", "insert": p(110, 130), "height": 2000})
    # second tank zone, no text: ZONE-TANK-1
    msp.add_lwpolyline([p(10, 100), p(40, 100), p(40, 140), p(10, 140)], close=True, dxfattribs={"layer": "ZONE-TANK"})
    # loading area: a bulge on its east side (radius 10 m arc), MTEXT name on two lines
    msp.add_lwpolyline([p(100, 10), (o[0] + 180000, o[1] + 10000, 0, 0, 1.0), p(180, 30), p(100, 30)], format="xyseb", close=True,
                       dxfattribs={"layer": "ZONE-LOAD"})
    msp.add_mtext("装卸区\\P(汽车)", dxfattribs={"layer": "ZONE-LOAD", "insert": p(120, 25)})
    # overlaps the loading area: reported, kept
    msp.add_lwpolyline([p(170, 5), p(195, 5), p(195, 20), p(170, 20)], close=True, dxfattribs={"layer": "ZONE-LOAD"})
    # open polyline on a zone layer: skipped
    msp.add_lwpolyline([p(50, 50), p(60, 50), p(60, 60)], dxfattribs={"layer": "ZONE-LOAD"})
    # label layer text names the zone it lies in (ZONE-TANK-1 has none of its own)
    msp.add_text("罐区二", dxfattribs={"layer": "LABEL", "insert": p(20, 120)})
    msp.add_text("无处", dxfattribs={"layer": "LABEL", "insert": p(60, 60)})
    # building with its id in the text
    msp.add_lwpolyline([p(20, 20), p(60, 20), p(60, 50), p(20, 50)], close=True, dxfattribs={"layer": "BUILDING"})
    msp.add_text("OB 综合楼", dxfattribs={"layer": "BUILDING", "insert": p(30, 30)})
    # tanks: circles -> cylinders
    msp.add_circle(p(120, 110), 8000, dxfattribs={"layer": "TANK"})
    msp.add_text("TK-101", dxfattribs={"layer": "TANK", "insert": p(120, 110)})
    if not v2:
        msp.add_circle(p(150, 110), 6000, dxfattribs={"layer": "TANK"})
    msp.add_line(p(0, 0), p(1, 1), dxfattribs={"layer": "TANK"})  # not read on an obstacle layer
    # racks: an axis-aligned rectangle and a rotated one (its bounding box, noted)
    msp.add_lwpolyline([p(70, 60), p(90, 60), p(90, 66), p(70, 66)], close=True, dxfattribs={"layer": "RACK"})
    msp.add_lwpolyline([p(70, 80), p(80, 90), p(78, 92), p(68, 82)], close=True, dxfattribs={"layer": "RACK"})
    # anchors: points (z from the map) and an insert whose attribute ID names it
    for x, y in [(95, 75), (185, 75), (185, 145), (95, 145)] + ([(140, 5)] if v2 else []):
        msp.add_point(p(x, y), dxfattribs={"layer": "ANCHOR"})
    blk = doc.blocks.new("ANCHOR-SYM")
    blk.add_circle((0, 0), 300)
    blk.add_attdef("ID", (0, 0))
    ref = msp.add_blockref("ANCHOR-SYM", p(140, 85), dxfattribs={"layer": "ANCHOR"})
    ref.add_attrib("ID", "A-GATE", p(140, 85))
    # cameras: inserts, rotation = yaw
    cam = doc.blocks.new("CAM")
    cam.add_lwpolyline([(0, 0), (1000, 300), (1000, -300)], close=True)
    msp.add_blockref("CAM", p(95, 70), dxfattribs={"layer": "CAMERA", "rotation": 45})
    # a block that holds a block: reported
    outer = doc.blocks.new("CAM-POLE")
    outer.add_blockref("CAM", (0, 0))
    msp.add_blockref("CAM-POLE", p(190, 145), dxfattribs={"layer": "CAMERA", "rotation": 225})
    msp.add_point(p(5, 5), dxfattribs={"layer": "CAMERA"})  # a camera is an insert: skipped
    # unmapped layer
    msp.add_line(p(0, 0), p(10, 10), dxfattribs={"layer": "MISC"})
    msp.add_circle(p(5, 5), 1000, dxfattribs={"layer": "MISC"})
    save(doc, "plant-v2.dxf" if v2 else "plant.dxf", "ANSI_936")


def metres():
    """$INSUNITS 6 (metres), a UTF-8 drawing (R2000 written with code page ANSI_1252, ASCII text)."""
    doc = new(6)
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (30, 0), (30, 20), (0, 20)], close=True, dxfattribs={"layer": "Z"})
    msp.add_text("GATE", dxfattribs={"layer": "Z", "insert": (5, 5)})
    save(doc, "metres.dxf")


def unitless():
    doc = new(0)
    doc.modelspace().add_lwpolyline([(0, 0), (30, 0), (30, 20)], close=True, dxfattribs={"layer": "Z"})
    save(doc, "unitless.dxf")


def bad_bowtie():
    doc = new(6)
    doc.modelspace().add_lwpolyline([(0, 0), (10, 10), (10, 0), (0, 10)], close=True, dxfattribs={"layer": "Z"})
    save(doc, "bowtie.dxf")


def bad_duplicate():
    doc = new(6)
    msp = doc.modelspace()
    for x in (0, 50):
        msp.add_lwpolyline([(x, 0), (x + 30, 0), (x + 30, 20), (x, 20)], close=True, dxfattribs={"layer": "Z"})
        msp.add_text("TF", dxfattribs={"layer": "Z", "insert": (x + 5, 5)})
    save(doc, "duplicate.dxf")


def big_arc():
    """A zone whose north side is an arc of radius ~600 m (bulge): flattening must stay within 5 cm."""
    doc = new(6)
    # chord 400 m along y = 0, sagitta 35 m: bulge = 2 s / c
    bulge = 2 * 35.0 / 400.0
    doc.modelspace().add_lwpolyline([(0, 0, 0, 0, 0), (0, -100, 0, 0, 0), (400, -100, 0, 0, 0), (400, 0, 0, 0, bulge)], format="xyseb", close=True,
                                    dxfattribs={"layer": "Z"})
    save(doc, "big_arc.dxf")


if __name__ == "__main__":
    os.makedirs(HERE, exist_ok=True)
    plant()
    plant(v2=True)
    metres()
    unitless()
    bad_bowtie()
    bad_duplicate()
    big_arc()

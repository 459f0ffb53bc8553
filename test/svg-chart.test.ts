import assert from "node:assert/strict";
import { niceTicks } from "../packages/sdk/src/plot/nice-ticks.ts";
import { svgChart } from "../packages/sdk/src/plot/svg-chart.ts";

/** Every tag closes in order and every attribute is quoted: enough to know a viewer will parse it. */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, closing, name, , selfClosing] = match;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, [], "unclosed elements");
  const stripped = svg.replace(/<[^>]*>/g, "");
  assert.ok(!/[<>]/.test(stripped), "a stray < or > in text");
  assert.ok(!/NaN|Infinity|undefined/.test(svg), "a non-finite number reached the output");
}

describe("SVG charts", function () {
  it("picks round ticks that cover the range", function () {
    assert.deepEqual(niceTicks(0, 10), [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(niceTicks(1469, 59409, 5), [0, 20000, 40000, 60000]);
    assert.deepEqual(niceTicks(0.93, 1.41, 4), [0.8, 1, 1.2, 1.4, 1.6], "the last tick is at or above the maximum");
    assert.ok(niceTicks(5, 5).length >= 2, "a flat range still gets an axis");
  });

  it("draws every series and point, escapes text and stays well-formed", function () {
    const svg = svgChart({
      title: "Proving time <ms> & constraints",
      xLabel: "constraints",
      yLabel: "ms",
      series: [
        {
          name: "cold",
          points: [
            { x: 1469, y: 300, label: "commitment-3x3" },
            { x: 15991, y: 1800 },
            { x: 59409, y: 6500 },
          ],
        },
        {
          name: "warm",
          points: [
            { x: 1469, y: 120 },
            { x: 15991, y: 1300 },
          ],
          dashed: true,
          style: "line",
        },
      ],
      hLines: [{ y: 1000, label: "1 s" }],
      vMarks: [{ x: 30000, label: "25k goal" }],
    });
    assertWellFormed(svg);
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
    assert.match(svg, /Proving time &lt;ms&gt; &amp; constraints/);
    assert.equal((svg.match(/<circle /g) ?? []).length, 3, "points of the line-only series are not marked");
    assert.equal((svg.match(/<path /g) ?? []).length, 2);
    assert.match(svg, /stroke-dasharray="5 3"/);
    assert.equal(
      svg,
      svgChart({
        title: "Proving time <ms> & constraints",
        xLabel: "constraints",
        yLabel: "ms",
        series: [
          {
            name: "cold",
            points: [
              { x: 1469, y: 300, label: "commitment-3x3" },
              { x: 15991, y: 1800 },
              { x: 59409, y: 6500 },
            ],
          },
          {
            name: "warm",
            points: [
              { x: 1469, y: 120 },
              { x: 15991, y: 1300 },
            ],
            dashed: true,
            style: "line",
          },
        ],
        hLines: [{ y: 1000, label: "1 s" }],
        vMarks: [{ x: 30000, label: "25k goal" }],
      }),
      "same input, same bytes",
    );
  });

  it("refuses empty or non-finite data, naming the chart", function () {
    assert.throws(() => svgChart({ title: "empty", xLabel: "x", yLabel: "y", series: [{ name: "s", points: [] }] }), /svgChart "empty": no data points/);
    assert.throws(() => svgChart({ title: "bad", xLabel: "x", yLabel: "y", series: [{ name: "s", points: [{ x: 1, y: Number.NaN }] }] }), /svgChart "bad": non-finite point/);
  });
});

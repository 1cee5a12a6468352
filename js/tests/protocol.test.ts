import { describe, expect, it } from "vitest";
import { headKey } from "../src/protocol";

describe("protocol", () => {
  it("names a head L{layer}H{head}, as headlab/head_names.py does", () => {
    expect(headKey(3, 5)).toBe("L3H5");
    expect(headKey(0, 11)).toBe("L0H11");
  });
});

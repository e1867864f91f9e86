import { describe, expect, test } from "@jest/globals";
import { withDeviceMetrics } from "./policyBackend.js";

describe("withDeviceMetrics", () => {
  test("every line carries the policy's device and node share; a policy without a device adds nothing", () => {
    const lines: Record<string, unknown>[] = [];
    let share: number | null = null;
    const log = withDeviceMetrics((r) => lines.push(r), {
      deviceInfo: () => ({ device: "Vulkan0 (llvmpipe)", nodeShare: share }),
    });
    log({ step: 0 });
    share = 0.97;
    log({ step: 1, loss: 2.5 });
    withDeviceMetrics((r) => lines.push(r), {})({ step: 2 });
    expect(lines).toEqual([
      { step: 0, device: "Vulkan0 (llvmpipe)", device_node_share: null },
      { step: 1, loss: 2.5, device: "Vulkan0 (llvmpipe)", device_node_share: 0.97 },
      { step: 2 },
    ]);
  });
});

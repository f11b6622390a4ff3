import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { startTorchSteps } from "../../bench/torch_ref.ts";

const TINY = { name: "tiny", d: 16, heads: 2, ff: 32, batch: 4, loops: 1 };
const hasTorch = await new Deno.Command("/usr/bin/python3", { args: ["-c", "import torch"] })
  .output().then((o) => o.success, () => false);

Deno.test({
  name: "PyTorch's step server answers each request with that many step times, then ends",
  ignore: !hasTorch,
  fn: async () => {
    const server = await startTorchSteps(TINY, 1);
    assert(!("unavailable" in server), JSON.stringify(server));
    assertEquals(server.threads, 1);
    const first = await server.run(2), second = await server.run(3);
    assertEquals([first.length, second.length], [2, 3]);
    assert([...first, ...second].every((ms) => ms > 0 && ms < 10_000));
    await server.close();
  },
});

Deno.test({
  name: "a PyTorch server that cannot start says why",
  ignore: !hasTorch,
  fn: async () => {
    const failed = await startTorchSteps(TINY, 1, ["--no-such-flag"]);
    assert("unavailable" in failed);
    assertStringIncludes(failed.unavailable, "unrecognized arguments: --no-such-flag");
  },
});

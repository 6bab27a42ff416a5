// Packer's machine-readable lines, as Packer 1.6.6 printed them in these cases.
import { describe, expect, it } from "vitest";
import {
  ArtifactCollector,
  ErrorCollector,
  LineSplitter,
  parseMachineReadableLine,
  uiLine,
  unescapeField,
} from "../../src/packer/machine-readable.js";

describe("parseMachineReadableLine", () => {
  it.each([
    [
      "1795654684,,ui,say,==> null.x: Running local shell script: /tmp/packer-shell1153569004",
      {
        timestamp: 1795654684,
        target: "",
        type: "ui",
        data: ["say", "==> null.x: Running local shell script: /tmp/packer-shell1153569004"],
      },
    ],
    [
      "1795654684,,ui,message,    null.x: hello%!(PACKER_COMMA) world",
      { timestamp: 1795654684, target: "", type: "ui", data: ["message", "    null.x: hello, world"] },
    ],
    [
      "1795654684,,ui,say,\\n==> Builds finished. The artifacts of successful builds are:",
      {
        timestamp: 1795654684,
        target: "",
        type: "ui",
        data: ["say", "\n==> Builds finished. The artifacts of successful builds are:"],
      },
    ],
    [
      "1795654684,null.x,artifact,1,file,0,/tmp/pk/o1/x.ova",
      { timestamp: 1795654684, target: "null.x", type: "artifact", data: ["1", "file", "0", "/tmp/pk/o1/x.ova"] },
    ],
    ["1795654690,,error-count,1", { timestamp: 1795654690, target: "", type: "error-count", data: ["1"] }],
    [
      "1795654690,null.x,artifact-count,2\r",
      { timestamp: 1795654690, target: "null.x", type: "artifact-count", data: ["2"] },
    ],
  ])("%s", (line, expected) => {
    expect(parseMachineReadableLine(line)).toEqual(expected);
  });

  it.each([[""], ["panic: runtime error"], ["Error: Failed to initialize build 'x'"], ["12a,,ui,say,x"]])(
    "leaves %j alone: not machine-readable",
    (line) => {
      expect(parseMachineReadableLine(line)).toBeUndefined();
    },
  );

  it("unescapes commas and newlines in every field", () => {
    expect(unescapeField("a%!(PACKER_COMMA)b\\nc\\rd")).toBe("a,b\nc\rd");
  });
});

describe("uiLine", () => {
  it("keeps commas that were escaped as part of the text", () => {
    const event = parseMachineReadableLine("1,,ui,error,==> null.x: it broke: disk%!(PACKER_COMMA) full");
    expect(event && uiLine(event)).toEqual({ level: "error", text: "==> null.x: it broke: disk, full", timestamp: 1 });
  });

  it("ignores other event types", () => {
    const event = parseMachineReadableLine("1,x,artifact-count,1");
    expect(event && uiLine(event)).toBeUndefined();
  });
});

describe("LineSplitter", () => {
  it("joins lines split across chunks and keeps the unterminated rest for flush", () => {
    const splitter = new LineSplitter();
    expect(splitter.push("1,,ui,say,he")).toEqual([]);
    expect(splitter.push("llo\n2,,ui,say,wor")).toEqual(["1,,ui,say,hello"]);
    expect(splitter.push("ld\n3,,ui")).toEqual(["2,,ui,say,world"]);
    expect(splitter.flush()).toEqual(["3,,ui"]);
    expect(splitter.flush()).toEqual([]);
  });
});

describe("ArtifactCollector", () => {
  const lines = [
    "1795654684,null.x,artifact-count,2",
    "1795654684,null.x,artifact,0,builder-id,fnoeding.null",
    "1795654684,null.x,artifact,0,id,Null",
    "1795654684,null.x,artifact,0,string,Did not export anything. This is the null builder",
    "1795654684,null.x,artifact,0,files-count,0",
    "1795654684,null.x,artifact,0,end",
    "1795654684,null.x,artifact,1,builder-id,packer.post-processor.artifice",
    "1795654684,null.x,artifact,1,id,",
    "1795654684,null.x,artifact,1,string,Created artifact from files: /tmp/o/x.ova",
    "1795654684,null.x,artifact,1,files-count,2",
    "1795654684,null.x,artifact,1,file,0,/tmp/o/x.ova",
    "1795654684,null.x,artifact,1,file,1,/tmp/o/with%!(PACKER_COMMA)comma.mf",
    "1795654684,null.x,artifact,1,end",
  ];

  it("assembles artifacts and their files in order", () => {
    const collector = new ArtifactCollector();
    for (const line of lines) collector.add(parseMachineReadableLine(line)!);
    expect(collector.artifacts).toEqual([
      {
        target: "null.x",
        index: 0,
        builderId: "fnoeding.null",
        id: "Null",
        description: "Did not export anything. This is the null builder",
        files: [],
      },
      {
        target: "null.x",
        index: 1,
        builderId: "packer.post-processor.artifice",
        id: "",
        description: "Created artifact from files: /tmp/o/x.ova",
        files: ["/tmp/o/x.ova", "/tmp/o/with,comma.mf"],
      },
    ]);
    expect(collector.files).toEqual(["/tmp/o/x.ova", "/tmp/o/with,comma.mf"]);
  });
});

describe("ErrorCollector", () => {
  it("keeps each build's reason and the error lines once, without Packer's summary banners", () => {
    const collector = new ErrorCollector();
    for (const line of [
      "1,,ui,say,==> null.x: Running local shell script: /tmp/packer-shell2469030791",
      "1,,ui,error,==> null.x: it broke: disk%!(PACKER_COMMA) full",
      "1,,ui,error,Build 'null.x' errored after 19 milliseconds 866 microseconds: Script exited with non-zero exit status: 7.Allowed exit codes are: [0]",
      "1,,error-count,1",
      "1,,ui,error,\\n==> Some builds didn't complete successfully and had errors:",
      "1,null.x,error,Script exited with non-zero exit status: 7.Allowed exit codes are: [0]",
      "1,,ui,error,--> null.x: Script exited with non-zero exit status: 7.Allowed exit codes are: [0]",
      "1,,ui,error,==> null.x: it broke: disk%!(PACKER_COMMA) full",
    ]) {
      collector.add(parseMachineReadableLine(line)!);
    }
    expect(collector.lines).toEqual([
      "==> null.x: it broke: disk, full",
      "Build 'null.x' errored after 19 milliseconds 866 microseconds: Script exited with non-zero exit status: 7.Allowed exit codes are: [0]",
      "null.x: Script exited with non-zero exit status: 7.Allowed exit codes are: [0]",
    ]);
  });
});

// CPU time used by a process group (wrangler dev and the workerd it runs), from /proc. Throughput
// on a shared 2-core machine moves with everyone else's load; CPU milliseconds per request do
// not, so the table prints both. Off Linux this reads NaN and the column shows "—".
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let ticksPerSecond;

function clockTicks() {
  if (ticksPerSecond === undefined) {
    const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8", timeout: 5_000 });
    ticksPerSecond = Number(r.stdout?.trim()) || 100;
  }
  return ticksPerSecond;
}

/** user + system CPU milliseconds of every live process in process group `pgid`. */
export function groupCpuMs(pgid) {
  let procs;
  try {
    procs = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return NaN;
  }
  let ticks = 0;
  for (const pid of procs) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // Fields after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(f[2]) !== pgid) continue;
    ticks += Number(f[11]) + Number(f[12]);
  }
  return (ticks * 1000) / clockTicks();
}

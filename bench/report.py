#!/usr/bin/env python3
"""bench/run's report: the loadgen results of one run as JSON, a markdown table and a PNG
chart (gnuplot) of server CPU per egress packet against subscribers, both servers on one
chart. Usage: report.py OUT_DIR result.json...  Exits 1 if a result carried nothing.

A scenario may have been run several times, rollcall and Janus alternately (in the order
given): the table shows each server's median run (by CPU per egress packet) with every run's
figure beside it, and the ratio of the medians with the range of the ratios of runs made
next to each other. This machine's speed drifts by tens of percent over minutes, for both
processes at once; runs made seconds apart share most of that drift."""
import datetime
import json
import os
import subprocess
import sys

out_dir, paths = sys.argv[1], sys.argv[2:]
results = [json.load(open(p)) for p in paths]
commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True,
                        text=True).stdout.strip()
meta = {'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'commit': commit, 'cores': os.cpu_count()}

def row(r):
    d, j = r['delay_ms'], r['join_ms']
    return [r['name'], r['target'], r['srtp_profile'].replace('AEAD_AES_128_GCM', 'GCM'),
            f"{r['egress_pps']:,.0f}", f"{r['server_cpu_percent']:.1f}",
            f"{r['server_cpu_us_per_egress_packet']:.2f}",
            f"{r['server_cpu_s_per_million_egress']:.2f}", f"{r['loadgen_cpu_percent']:.0f}",
            f"{d['p50']:.2f} / {d['p99']:.2f} / {d['max']:.1f}", f"{r['loss_percent']:.3f}",
            f"{j['p50']:.0f} / {j['p99']:.0f}", f"{r['admit_all_s']:.2f}",
            f"{r['rss_kb'] / 1024:.1f}", f"{r['rss_per_participant_kb']:.0f}"]

def us(r):
    return r['server_cpu_us_per_egress_packet']

runs = {}  # (scenario, server) -> its runs, in the order they were made
for r in results:
    runs.setdefault((r['name'], r['target']), []).append(r)

def median(group):
    ordered = sorted(group, key=us)
    return ordered[(len(ordered) - 1) // 2]

head = ['scenario', 'server', 'SRTP', 'egress pkt/s', 'server CPU %', 'µs CPU / egress pkt',
        'CPU-s / M egress', 'generator CPU %', 'delay p50 / p99 / max ms', 'loss %',
        'join p50 / p99 ms', 'all admitted s', 'RSS MB', 'RSS / participant KB',
        'µs / egress pkt, every run']
lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
lines += ['| ' + ' | '.join(row(median(group)) + [', '.join(f'{us(r):.2f}' for r in group)]) + ' |'
          for group in runs.values()]
ratios = []
for name in dict.fromkeys(r['name'] for r in results):
    a, b = runs.get((name, 'rollcall')), runs.get((name, 'janus'))
    if not a or not b or us(median(a)) <= 0:
        continue
    pairs = [us(j) / us(r) for r, j in zip(a, b) if us(r) > 0]
    spread = f'{min(pairs):.2f}–{max(pairs):.2f}×' if len(pairs) > 1 else ''
    ratios.append(f"| {name} | {us(median(b)) / us(median(a)):.2f}× | {spread} |")
repeats = max(len(group) for group in runs.values()) if runs else 0
meta['runs_per_scenario'] = repeats
text = (f"Run {meta['date']} at {commit}, {meta['cores']} cores; server on core 0, generator on "
        f"core 1; each scenario {repeats}× per server, alternately; each server's median run.\n\n")
text += '\n'.join(lines) + '\n'
if ratios:
    text += ("\n| scenario | Janus CPU per egress packet ÷ rollcall's (medians) | "
             "the same, runs made one after the other |\n|---|---|---|\n" + '\n'.join(ratios) + '\n')
with open(os.path.join(out_dir, 'loadgen.json'), 'w') as f:
    json.dump({'run': meta, 'results': results}, f, indent=2)
with open(os.path.join(out_dir, 'loadgen.md'), 'w') as f:
    f.write(text)
print(text)

# The chart: fan-out scenarios, x = subscribers.
series = {}
for (name, target), group in runs.items():
    if name.startswith('fanout'):
        series.setdefault(target, []).append((group[0]['subscribers'], us(median(group))))
if series:
    data = os.path.join(out_dir, 'loadgen.dat')
    with open(data, 'w') as f:
        for target, points in series.items():
            f.write(f'# {target}\n')
            for x, y in sorted(points):
                f.write(f'{x} {y}\n')
            f.write('\n\n')
    plots = ', '.join(f"'{data}' index {i} with linespoints lw 2 pt 7 title '{t}'"
                      for i, t in enumerate(series))
    script = f"""set terminal pngcairo size 900,540 font 'sans,11'
set output '{os.path.join(out_dir, 'loadgen.png')}'
set title 'Server CPU per forwarded packet, one publisher (1.5 Mbit/s video + audio) to N subscribers'
set xlabel 'subscribers'
set ylabel 'µs of server CPU per egress packet'
set yrange [0:*]
set grid
set key top right
plot {plots}
"""
    try:
        subprocess.run(['gnuplot'], input=script, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f'no chart: {e}', file=sys.stderr)
    finally:
        os.remove(data)

empty = [f"{r['name']} on {r['target']}" for r in results if r['egress_packets'] == 0]
if empty or not results:
    print('nothing forwarded: ' + ', '.join(empty), file=sys.stderr)
    sys.exit(1)

#!/usr/bin/env bash
# The answering-machine detector's labelled set: who answers a call, synthesized with flite and
# espeak-ng voices and sox, written as 8 kHz mono WAV into DIR with DIR/labels.tsv
# (file <TAB> label <TAB> ms where its speech ends, 0 for clips without), label one of human, machine_beep, machine_silence, fax, silence.
#   human            a short answer ("Hello?") after 0.2-1 s, then silence
#   machine_beep     a voicemail greeting, a beep (400-1400 Hz, 0.25-1 s), silence
#   machine_silence  a greeting and silence (machines that do not beep)
#   fax              a fax's answer tone (CED 2100 Hz) or calling tone (CNG 1100 Hz bursts)
#   silence          nobody says anything
# Half of the clips carry white noise at about -50 dBFS. Deterministic (sox -R): the same set
# every run.
#   amd_labelled_set.sh DIR
set -euo pipefail
dir=${1:?usage: amd_labelled_set.sh DIR}
mkdir -p "$dir"
cd "$dir"
: > labels.tsv

voices=("flite:kal" "flite:slt" "flite:rms" "flite:awb" "espeak:en-us" "espeak:en+f3")
humans=("Hello?" "Hello, who is this?" "Yes?" "Hi, Sam speaking." "Hello, Smith residence.")
greetings=(
  "Hi, you have reached the voicemail of John Smith. I am not available right now. Please leave your name and number after the tone."
  "Thank you for calling Acme Dental. Our office is closed. Please leave a message and we will return your call as soon as we can."
  "The person you are trying to reach is not available. At the tone, please record your message. When you are finished, hang up."
)
beeps=("1000 0.5" "850 0.4" "1400 0.25" "440 1.0" "1000 0.3" "700 0.6")

# speak VOICE TEXT OUT: 8 kHz mono 16-bit speech.
speak() {
  local engine=${1%%:*} voice=${1#*:}
  if [[ $engine == flite ]]; then
    flite -voice "$voice" -t "$2" -o raw.wav
  else
    espeak-ng -v "$voice" -w raw.wav "$2"
  fi
  sox -R raw.wav -r 8000 -c 1 -b 16 "$3"
  rm -f raw.wav
}
silence() { sox -R -n -r 8000 -c 1 -b 16 "$2" trim 0 "$1"; }
# finish NAME LABEL NOISY PARTS...: concatenates, adds noise when NOISY, records the label.
finish() {
  local name=$1 label=$2 noisy=$3
  shift 3
  sox -R "$@" -b 16 joined.wav
  if [[ $noisy == 1 ]]; then
    local len
    len=$(soxi -D joined.wav)
    sox -R -n -r 8000 -c 1 -b 16 noise.wav synth "$len" whitenoise vol 0.004
    sox -R -m joined.wav noise.wav -b 16 "$name.wav"
    rm -f noise.wav
  else
    mv joined.wav "$name.wav"
  fi
  rm -f joined.wav "$@"
  printf '%s\t%s\t%d\n' "$name.wav" "$label" "${speech_end:-0}" >> labels.tsv
  speech_end=0
}

n=0
for v in "${!voices[@]}"; do
  for h in "${!humans[@]}"; do
    n=$((n + 1))
    silence "0.$((2 + (n * 3) % 8))" lead.wav
    speak "${voices[$v]}" "${humans[$h]}" say.wav
    silence 6 tail.wav
    finish "human-$v-$h" human $((n % 2)) lead.wav say.wav tail.wav
  done
  for g in "${!greetings[@]}"; do
    n=$((n + 1))
    silence "0.$((3 + n % 6))" lead.wav
    speak "${voices[$v]}" "${greetings[$g]}" say.wav
    speech_end=$(awk -v a="$(soxi -D lead.wav)" -v b="$(soxi -D say.wav)" 'BEGIN { printf "%d", (a + b) * 1000 }')
    if (((v + g) % 3 != 2)); then
      read -r hz len <<< "${beeps[$(((v + g) % 6))]}"
      silence 0.4 gap.wav
      sox -R -n -r 8000 -c 1 -b 16 beep.wav synth "$len" sine "$hz" vol 0.5
      silence 5 tail.wav
      finish "machine-$v-$g" machine_beep $((n % 2)) lead.wav say.wav gap.wav beep.wav tail.wav
    else
      silence 6 tail.wav
      finish "machine-$v-$g" machine_silence $((n % 2)) lead.wav say.wav tail.wav
    fi
  done
done

# The hard cases, where cadence alone is wrong (as it is for Twilio's detector): people who
# answer at length, and machines with a short greeting.
long_humans=("Hello, this is Mary Johnson speaking, how can I help you today?"
  "Good afternoon, you are speaking with the front desk of the Grand Hotel.")
short_greetings=("Leave a message." "Not here. Beep.")
for i in 0 1; do
  silence 0.5 lead.wav
  speak "${voices[$((i * 4))]}" "${long_humans[$i]}" say.wav
  silence 6 tail.wav
  finish "hard-human-$i" human 0 lead.wav say.wav tail.wav
  silence 0.5 lead.wav
  speak "${voices[$((i * 2 + 1))]}" "${short_greetings[$i]}" say.wav
  speech_end=$(awk -v a="$(soxi -D lead.wav)" -v b="$(soxi -D say.wav)" 'BEGIN { printf "%d", (a + b) * 1000 }')
  silence 0.4 gap.wav
  sox -R -n -r 8000 -c 1 -b 16 beep.wav synth 0.5 sine 1000 vol 0.5
  silence 5 tail.wav
  finish "hard-machine-$i" machine_beep 0 lead.wav say.wav gap.wav beep.wav tail.wav
done

# Fax machines: an answering fax's CED, and a calling fax's CNG bursts.
silence 0.5 lead.wav
sox -R -n -r 8000 -c 1 -b 16 ced.wav synth 3.3 sine 2100 vol 0.4
silence 3 tail.wav
finish fax-ced fax 0 lead.wav ced.wav tail.wav
for i in 1 2; do
  sox -R -n -r 8000 -c 1 -b 16 "cng$i.wav" synth 0.5 sine 1100 vol 0.4
  silence 3 "off$i.wav"
done
finish fax-cng fax 1 cng1.wav off1.wav cng2.wav off2.wav

# Nobody there.
silence 8 quiet.wav
finish silence-digital silence 0 quiet.wav
silence 8 quiet.wav
finish silence-noise silence 1 quiet.wav

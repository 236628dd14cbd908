#!/usr/bin/env bash
# Install the Debian/Ubuntu packages mockinterview needs, when missing (root or sudo).
#   libespeak-ng1/espeak-ng  text to speech (pyttsx3)
#   libportaudio2            sounddevice (microphone, speaker)
#   pulseaudio, pulseaudio-utils, libasound2-plugins, alsa-utils
#                            virtual audio devices for tests on machines without a sound card
#   chromium, chromium-driver  headless browser for the report tests
#   python3-venv             virtual environments on Debian's own Python
set -euo pipefail
PKGS="libespeak-ng1 espeak-ng libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins alsa-utils chromium chromium-driver python3-venv"
missing=""
for p in $PKGS; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "missing system packages:$missing (run as root or install them: apt-get install$missing)" >&2
  exit 0
fi
echo "installing system packages:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

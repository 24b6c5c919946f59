// An offer rings: a short two-tone chime (Web Audio, no file to load) and a browser notification.

let audio: AudioContext | null = null

export function chime(): void {
  try {
    audio ??= new AudioContext()
    const start = audio.currentTime
    for (const [offset, pitch] of [[0, 880], [0.16, 1320]] as const) {
      const tone = audio.createOscillator()
      const gain = audio.createGain()
      tone.frequency.value = pitch
      gain.gain.setValueAtTime(0.0001, start + offset)
      gain.gain.exponentialRampToValueAtTime(0.2, start + offset + 0.02)
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.3)
      tone.connect(gain).connect(audio.destination)
      tone.start(start + offset)
      tone.stop(start + offset + 0.32)
    }
  } catch {
    /* no audio device: the offer is still on screen */
  }
}

export function askForNotifications(): void {
  if (typeof Notification !== 'undefined' && Notification.permission === 'default') {
    void Notification.requestPermission()
  }
}

export function notify(title: string, body: string, onClick: () => void): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || document.hasFocus()) return
  const notification = new Notification(title, { body, tag: 'switchboard-offer', requireInteraction: true })
  notification.onclick = () => {
    window.focus()
    onClick()
    notification.close()
  }
}

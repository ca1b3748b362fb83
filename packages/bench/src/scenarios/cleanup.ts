// Everything a scenario starts (servers, databases, processes) is released in reverse order when it ends, whether
// it ended well or not.

export type Defer = (release: () => unknown) => void

export async function withCleanup<T>(body: (defer: Defer) => Promise<T>): Promise<T> {
  const releases: (() => unknown)[] = []
  try {
    return await body((release) => releases.push(release))
  } finally {
    for (const release of releases.reverse()) {
      await Promise.resolve()
        .then(release)
        .catch((error) => console.error('cleanup failed:', error))
    }
  }
}

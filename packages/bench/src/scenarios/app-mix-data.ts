// The data of the app mix, the same in every contender's database: users, posts (each with an author; low user ids
// write more of them, as a few authors do in an application) and comments on every post. Ids run from 1 in a new
// database, so the operations address rows by id. Inserted with one SQL statement per table: seconds, not minutes.
import pg from 'pg'

export interface AppData {
  users: number
  posts: number
  commentsPerPost: number
}

/** Fills an empty database (the tables of prisma/models.prisma) with `data`. */
export async function seedApp(url: string, data: AppData): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(
      `INSERT INTO "User" (email, name) SELECT 'user' || i || '@example.com', 'User ' || i
       FROM generate_series(1, ${data.users}) AS i`,
    )
    // Author of post i: the fractional part of i × (golden ratio − 1), squared, scaled to the users: deterministic,
    // spread over every user, and skewed toward low ids (user 1 writes about 3% of the posts).
    await client.query(
      `INSERT INTO "Post" (title, published, views, "authorId")
       SELECT 'Post ' || i, i % 4 <> 0, 0,
              1 + floor(${data.users} * power(i * 0.6180339887 - floor(i * 0.6180339887), 2))::int
       FROM generate_series(1, ${data.posts}) AS i`,
    )
    await client.query(
      `INSERT INTO "Comment" (body, "postId", "authorId")
       SELECT 'Comment ' || c || ' on post ' || p, p, 1 + (p * 31 + c * 17) % ${data.users}
       FROM generate_series(1, ${data.posts}) AS p, generate_series(1, ${data.commentsPerPost}) AS c`,
    )
    await client.query('ANALYZE')
  } finally {
    await client.end()
  }
}

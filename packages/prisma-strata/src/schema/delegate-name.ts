/** The name of a model's delegate on the client (`User` → `prisma.user`), as Prisma derives it. */
export function delegateName(model: string): string {
  return model.charAt(0).toLowerCase() + model.slice(1)
}

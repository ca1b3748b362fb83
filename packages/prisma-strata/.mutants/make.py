import re
src=open('.mutants/base.js').read()
muts={
 'count': (r"else for \(const rel2 of info\.relations\.values\(\)\) deps\.add\(rel2\.target\);?", "else;"),
 'relfilter': (r"if \(filters\.length\) for \(const k of filters\) visitWhere\(graph, target, value\[k\], deps\);?\s*else visitWhere\(graph, target, value, deps\);?", "void filters;"),
 'orderby': (r"if \(target && isObject\(value\)\) visitOrderBy\(graph, target, value, deps\);?", "void target;"),
 'cascade': (r"if \(fk\.onDelete === (['\"])Cascade\1\) this\.deleted\(fk\.child, seen\);?\s*else if", "if"),
 'setnull': (r"else if \(fk\.onDelete === (['\"])SetNull\1 \|\| fk\.onDelete === (['\"])SetDefault\2\) this\.updated\(fk\.child, fk\.fields, seen\);?", ""),
 'nestedtarget': (r"this\.add\(parent\);?\s*this\.add\(model\);?", "this.add(parent);"),
 'raw': (r"byTable\.set\(model\.dbName\.toLowerCase\(\), referencingModels\(graph, model\.name\)\);?", "byTable.set(model.dbName.toLowerCase(), [model.name]);"),
 'settle': (r"const settle = \(\) => id \? engine\.versions\.bump\(engine\.transactions\.close\(id\)\) : void 0;?", "const settle = () => void 0;"),
 'itxbypass': (r"inTransaction: parent\[TX_SCOPE\] !== void 0", "inTransaction: false"),
 'selectnested': (r"(deps\.add\(rel\.target\);?\s*)if \(isObject\(value\)\) visitArgs\(graph, rel\.target, value, deps\);?(\s*\}\s*\}\s*function visitWhere)", r"\1\2"),
 'orthrow': (r"if \(value === null && orThrow\(call\.operation\)\) throw", "if (false) throw"),
 'decimal': (r"read: \(text\) => new Decimal\(text\)", "read: (text) => text"),
}
for name,(a,b) in muts.items():
    out,n=re.subn(a,b,src)
    if n!=1: print('BAD', name, n); continue
    open(f'.mutants/{name}.js','w').write(out)
print('made')

// The amlc DSL: a compact, typed way to write the same specs as the YAML
// files. A file is a list of blocks; each block is one resource:
//
//   compute "local" { type = local  max_concurrent = 2 }
//   job "train" {
//     compute = compute.local           // a typed reference
//     command = "python train.py --C ${inputs.C}"
//     inputs { C = 1.0 }               // a nested block is a mapping
//   }
//
// Field names are those of the YAML shapes, so a YAML spec and its DSL twin
// compile to the identical IR.
grammar Aml;

file      : block* EOF ;
block     : kind=IDENT label=STRING? body ;
body      : '{' member* '}' ;
member    : key ( '=' value | body ) ','? ;
key       : IDENT | STRING ;

value     : STRING                                  # stringValue
          | TRIPLE_STRING                           # tripleStringValue
          | NUMBER                                  # numberValue
          | (KW_TRUE | KW_FALSE)                          # boolValue
          | KW_NULL                                  # nullValue
          | reference                               # referenceValue
          | IDENT                                   # wordValue
          | '[' (value (',' value)* ','?)? ']'      # listValue
          | body                                    # mappingValue
          ;
reference : IDENT ('.' refPart)+ ;
refPart   : IDENT | STRING | NUMBER ;

KW_TRUE       : 'true' ;
KW_FALSE      : 'false' ;
KW_NULL       : 'null' ;
IDENT         : [a-zA-Z_] [a-zA-Z0-9_\-]* ;
NUMBER        : '-'? [0-9]+ ('.' [0-9]+)? ([eE] [+\-]? [0-9]+)? ;
TRIPLE_STRING : '"""' .*? '"""' ;
STRING        : '"' ( '\\' . | ~["\\\r\n] )* '"' ;
LINE_COMMENT  : ('#' | '//') ~[\r\n]* -> skip ;
BLOCK_COMMENT : '/*' .*? '*/' -> skip ;
WS            : [ \t\r\n]+ -> skip ;
ERROR_CHAR    : . ;

/**
 * ds_exists type constants, with GameMaker's values: ds_type_map 1, ds_type_list 2, ds_type_stack 3,
 * ds_type_queue 4, ds_type_grid 5, ds_type_priority 6 (as GameMaker's own constant lists and GML
 * shims give them). gmnet implements maps, lists and queues; the other types always report false.
 */
export const ds_type_map = 1;
export const ds_type_list = 2;
export const ds_type_queue = 4;

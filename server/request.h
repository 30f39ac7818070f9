/* request: the provisioning request handler (MHD access handler). */
#ifndef SPAPROV_REQUEST_H
#define SPAPROV_REQUEST_H

#include <microhttpd.h>

#define REQUEST_MAX_BODY (64u * 1024)   /* POST body (--post, reports) */
#define REQUEST_MAX_PATH 4096           /* path + query kept and checked */

enum MHD_Result request_handle(void *cls, struct MHD_Connection *connection,
			       const char *url, const char *method,
			       const char *version, const char *upload_data,
			       size_t *upload_data_size, void **req_cls);

void request_completed(void *cls, struct MHD_Connection *connection,
		       void **req_cls, enum MHD_RequestTerminationCode toe);

#endif

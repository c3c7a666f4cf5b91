// The kAEGetURL Apple Event handler (see doc.go). Verified only on a Mac.
#import <Foundation/Foundation.h>
#import <CoreServices/CoreServices.h>

// Defined in urlevents_darwin.go (cgo export).
extern void urleventsGoHandle(char *url);

@interface SoftphoneURLHandler : NSObject
- (void)handleGetURL:(NSAppleEventDescriptor *)event withReplyEvent:(NSAppleEventDescriptor *)reply;
@end

@implementation SoftphoneURLHandler
- (void)handleGetURL:(NSAppleEventDescriptor *)event withReplyEvent:(NSAppleEventDescriptor *)reply {
	NSString *url = [[event paramDescriptorForKeyword:keyDirectObject] stringValue];
	if (url == nil) {
		return;
	}
	// The bytes are copied by C.GoString before this returns.
	urleventsGoHandle((char *)[url UTF8String]);
}
@end

// The handler lives for the whole process (NSAppleEventManager does not
// retain it).
static SoftphoneURLHandler *handler;

void urleventsInstall(void) {
	void (^install)(void) = ^{
		if (handler == nil) {
			handler = [[SoftphoneURLHandler alloc] init];
		}
		[[NSAppleEventManager sharedAppleEventManager]
			setEventHandler:handler
			    andSelector:@selector(handleGetURL:withReplyEvent:)
			  forEventClass:kInternetEventClass
			     andEventID:kAEGetURL];
	};
	if ([NSThread isMainThread]) {
		install();
	} else {
		dispatch_sync(dispatch_get_main_queue(), install);
	}
}
